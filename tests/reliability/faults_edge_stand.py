"""The stand of an edge-side fault case (``Stand``): the devices, the gateway, its uplink relay,
the hub and the webhook, and the steps a case takes with them (see faults_edge.py).

The gateway's uplink goes through an ``UplinkRelay`` on the session broker, so that cutting it
cuts nothing else. The hub and the responders are ``HubSide`` (faults_edge_hub_side.py); the
count at the end is ``Books`` (faults_edge_books.py).
"""

from __future__ import annotations

import time
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Self

from support.services import MosquittoService
from support.waiting import eventually

from simulators.physics import SmokeRoom, SmokeSource
from simulators.run.network import UplinkRelay
from streetwatch.clock import Clock
from streetwatch.topics import Channel

from .faults_edge_books import Books
from .faults_edge_devices import Devices, street_devices
from .faults_edge_gateway import (
    WINDOW_S,
    EdgeInProcess,
    EdgeProcess,
    OffsetClock,
    gateway_yaml,
    outbox_file_records,
)
from .faults_edge_hub_side import HubSide
from .faults_edge_windows import Window, arrives_late, expected_time, fates

__all__ = ["Stand"]


class Stand(HubSide):
    """Devices, gateway, uplink relay, hub and webhook of one case (see faults_edge.py)."""

    def __init__(
        self,
        tmp: Path,
        broker: MosquittoService,
        prefix: str,
        *,
        in_process: bool = False,
        clock: Clock | None = None,
        quota_mb: float = 64,
        skews_ms: dict[str, int] | None = None,
    ) -> None:
        self.tmp = tmp
        self.broker = broker
        self.prefix = prefix
        self.gateway = f"{prefix}-gw"
        self.in_process = in_process
        self.clock = clock
        self.quota_mb = quota_mb
        self.devices = Devices(broker, street_devices(prefix, skews_ms=skews_ms))
        self.gateway_offset_ms = (
            round(clock.offset_s * 1000) if isinstance(clock, OffsetClock) else 0
        )
        self.boots: list[str] = []
        self.lost_in_kill: list[tuple[int, int]] = []  # real-time spans a kill may have lost
        self.killed_boots: set[str] = set()
        self.killed_records: list[tuple[str, str, int, bytes]] = []
        self._killed_at: int | None = None
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> Self:
        try:
            await self._open(self._stack)
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def _open(self, stack: AsyncExitStack) -> None:
        await self._open_hub(stack)
        self.relay = await stack.enter_async_context(
            UplinkRelay(self.broker.host, self.broker.port)
        )
        await stack.enter_async_context(self.devices)
        file = gateway_yaml(
            self.tmp / "gw",
            gateway=self.gateway,
            prefix=self.prefix,
            local=self.broker,
            uplink_port=self.relay.port,
            devices=self.devices.devices.values(),
            quota_mb=self.quota_mb,
        )
        self.edge: EdgeProcess | EdgeInProcess = (
            EdgeInProcess(file, self.clock, self.quota_mb) if self.in_process else EdgeProcess(file)
        )
        stack.push_async_callback(self._stop_edge)

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def _stop_edge(self) -> None:
        await self.edge.stop()

    # -- the gateway ------------------------------------------------------------------------

    async def start_edge(self) -> str:
        """Start the agent; returns its boot once it is connected both ways and the load runs."""
        await self.edge.start()

        async def connected() -> bool:
            now = await self.edge.status()
            return bool(now.get("local_broker", {}).get("connected")) and (
                self.relay.is_cut or bool(now.get("uplink", {}).get("connected"))
            )

        await eventually(connected, what="the gateway to connect")
        boot = str((await self.edge.status())["boot"])
        self.boots.append(boot)
        if not self.relay.is_cut:
            await eventually(
                lambda: self.hub.registry.get(self.gateway) is not None, what="the birth at the hub"
            )
        self.devices.run()
        return boot

    async def kill_edge(self) -> None:
        """kill -9 the agent process; what its outbox file held is kept for the books."""
        assert isinstance(self.edge, EdgeProcess)
        self._killed_at = int(time.time() * 1000)
        self.edge.kill()
        self.killed_boots.add(self.boots[-1])
        self.killed_records += outbox_file_records(self.edge.outbox, self.tmp / "crash-copy")

    async def restart_edge(self) -> str:
        """Start the agent again after a kill. Around the kill the books accept readings that
        were never acknowledged: those of the summary windows still open when it died (up to
        one window, and the tick that closes it) and those published until it subscribed again
        (the local broker keeps nothing for it)."""
        assert self._killed_at is not None
        boot = await self.start_edge()
        subscribed = int(time.time() * 1000)
        self.lost_in_kill.append((self._killed_at - 2 * WINDOW_S * 1000 - 500, subscribed + 100))
        return boot

    def killed_events(self) -> list[tuple[str, str, int, bytes]]:
        return [r for r in self.killed_records if r[1] == Channel.EVENT.value]

    async def steady(self, windows: int = 3, *, after_ms: int = 0) -> None:
        """Wait until the hub has stored ``windows`` summary windows of every sensor (that start
        after ``after_ms``, on the gateway's clock)."""

        async def stored() -> bool:
            counts = Counter(w.sensor for w in await self.stored_windows() if w.start >= after_ms)
            return all(counts[s] >= windows for s in self.devices.devices)

        await eventually(stored, what=f"{windows} windows of every sensor at the hub")

    async def wait_dropped(self, reason: str, at_least: int) -> None:
        """Wait until the gateway counts ``at_least`` telemetry records dropped for ``reason``."""

        async def dropped() -> bool:
            counts = (await self.edge.status()).get("buffer", {}).get("dropped", {})
            return int(counts.get(reason, 0)) >= at_least

        await eventually(dropped, what=f"telemetry dropped ({reason}) at the gateway")

    async def wait_level(self, sensor: str, level: str) -> None:
        """Wait until the gateway holds ``sensor`` at ``level`` (its highest active hazard)."""

        async def raised() -> bool:
            sensors = (await self.edge.status()).get("sensors", [])
            return any(s["id"] == sensor and s["level"] == level for s in sensors)

        await eventually(raised, what=f"{sensor} at {level} on the gateway")

    async def edge_depth(self, lane: str) -> int:
        return int((await self.edge.status()).get("buffer", {}).get("depth", {}).get(lane, 0))

    async def wait_outbox(self, lane: str, at_least: int, what: str) -> None:
        async def deep() -> bool:
            return await self.edge_depth(lane) >= at_least

        await eventually(deep, what=what)

    # -- the uplink -------------------------------------------------------------------------

    async def cut_uplink(self) -> None:
        self.cut_at = int(time.time() * 1000) + self.gateway_offset_ms  # on the gateway's clock
        self.relay.cut()

        async def down() -> bool:
            return (await self.edge.status()).get("uplink", {}).get("connected") is False

        await eventually(down, what="the gateway to notice the cut")

    async def restore_uplink(self) -> int:
        """Restore the uplink; returns when it was restored, on the gateway's clock."""
        restored_at = int(time.time() * 1000) + self.gateway_offset_ms
        await self.relay.restore()
        return restored_at

    # -- hazards --------------------------------------------------------------------------

    def flood(self, to_cm: float) -> None:
        device = self.devices.devices["water-1"]
        device.flood_to_cm = to_cm

    def fire(self, building: str = "b1") -> None:
        for device in self.devices.devices.values():
            if device.building == building and isinstance(device.model, SmokeRoom):
                device.model.source = SmokeSource.FLAMING

    # -- the books --------------------------------------------------------------------------

    async def finish(self) -> None:
        """Stop the devices, then wait until the hub has every window the gateway will send
        and the gateway's outbox is empty (everything confirmed)."""
        await self.devices.halt()
        last = {
            sensor: max(
                expected_time(p, self.gateway_offset_ms) for p in self.devices.published(sensor)
            )
            for sensor in self.devices.devices
        }
        late = {  # sensor → readings to count (a case with late samples has no kill)
            sensor: len(self.devices.published(sensor))
            for sensor in self.devices.devices
            if arrives_late(self.devices.published(sensor), self.gateway_offset_ms)
        }
        waiting_for: list[str] = []

        async def drained() -> bool:
            buffer = (await self.edge.status()).get("buffer", {})
            depth = buffer.get("depth", {})
            gaps = self.hub.sequence.stats().open_gap_seqs
            windows = await self.accounted_windows()
            waiting_for.clear()
            if depth.get("event", 1) or depth.get("telemetry", 1):
                waiting_for.append(f"the gateway's outbox to empty ({buffer})")
            if gaps:
                waiting_for.append(f"the {gaps} sequence numbers the hub misses")
            for sensor, t in last.items():
                mine = [w for w in windows if w.sensor == sensor]
                if not any(w.end > t for w in mine):
                    waiting_for.append(f"the window of {sensor}'s last reading")
                elif sum(w.count for w in mine) < late.get(sensor, 0):
                    waiting_for.append(f"the window that counts {sensor}'s late readings")
            return not waiting_for

        try:
            await eventually(drained, within_s=30, what="the gateway's outbox to drain")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; still waiting for {'; '.join(waiting_for)}") from None
        await self.report_health()

    async def report_health(self) -> None:
        """Have the gateway send its health now (what the hub's ``ping`` does) and wait until
        the hub stored it; a process is left to its own health interval."""
        if not isinstance(self.edge, EdgeInProcess) or self.edge.agent is None:
            return
        before = len(await self.rows("gateway_health"))
        await self.edge.agent.send_health()

        async def stored() -> bool:
            return len(await self.rows("gateway_health")) > before

        await eventually(stored, what="the gateway's health at the hub")

    async def accounted_windows(self) -> list[Window]:
        """The windows the hub stored, and (in process) those the gateway refused or evicted."""
        windows = await self.stored_windows()
        if isinstance(self.edge, EdgeInProcess):
            lost = await self.hub_seqs("lost")
            for ws in fates(self.edge.outbox.ledger, lost).values():
                windows += [w for w, fate in ws if fate != "stored"]
        return windows

    async def account(self, *, events_at_least: int = 1) -> Books:
        """The books of the case: every check of faults_edge_books.py, a table if one fails."""
        books = Books(self)
        await books.collect()
        books.check(events_at_least=events_at_least)
        return books
