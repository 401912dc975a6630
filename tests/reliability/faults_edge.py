"""Harness of the edge-side fault cases: one gateway under a steady load, a real hub, real pages.

    async with Stand(tmp_path, mosquitto, topic_prefix) as stand:
        await stand.start_edge()          # `streetwatch edge run`; the devices start publishing
        await stand.steady()              # summaries flow to the hub
        stand.flood(to_cm=36)             # the physics does the rest: orange, a page
        await stand.acknowledge(await stand.paged("flood", "orange"))
        await stand.cut_uplink()          # ... the fault ...
        await stand.restore_uplink()
        await stand.finish()              # devices stop; the outbox drains into the hub
        await stand.account()             # the books: one call, a table of counts on failure

Real: Mosquitto (the session broker is both the gateway's local broker and the hub's; the
gateway's uplink goes through an ``UplinkRelay`` so that cutting it cuts nothing else), the edge
agent (a ``streetwatch edge run`` process; ``EdgeAgent`` in this process where a case needs an
injection point: its clock, or a ledger of its outbox), its SQLite outbox, the hub with its
SQLite store, incidents, escalation and responder API, and the responders' webhook
(``HttpReceiver``). The devices are the simulators' physics (``Waterlogging``, ``SmokeRoom``) and
encoders (plain JSON with ``ts``, Zigbee2MQTT with ``last_seen``), three samples a second each;
their physics runs 60 times faster than their clocks, so a street floods in seconds.

Acknowledged reading: a device message that the gateway turned into a reading and stored in its
outbox, inside a telemetry record. Every reading is counted by the window summary of its sensor
(a streamed sample is sent on its own as well), so a reading is acknowledged once the summary
that counts it is in the outbox; until then (at most one window and the tick that closes it) it
is only in the agent's memory. The hub stores a reading exactly once when exactly one stored
summary of its sensor covers its time and counts it. A reading's time decides its window, so the
devices publish in the first 450 ms of each second only: a reading still lands in its own window
when the gateway takes up to half a second to process it.

What the gateway numbered comes from its own books: its counters, the ``LedgerOutbox`` (every
record offered to its outbox and the outcome) in process, and for a killed process the outbox
file as the kill left it.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
import shutil
import sqlite3
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import aiomqtt
import httpx
import yaml
from integration.edge.test_edge_process import STREETWATCH
from integration.hub.conftest import make_hub_config, running_hub
from support.http_receiver import HttpReceiver
from support.services import ManagedProcess, MosquittoService, unix_socket_answers
from support.waiting import eventually

from edge.agent import EdgeAgent
from edge.config import GatewayConfig
from edge.control import request
from edge.outbox import AddOutcome, NewRecord, SqliteOutbox
from edge.validate import DEFAULT_LIMITS
from hub.service import Hub
from hub.storage.base import QueryFilter, Row
from reliability.security_hub import GRID_WORKER, notify_section
from simulators.devices import DeviceSpec, Publish, Sample, Transmitter
from simulators.devices.encoding import published
from simulators.physics import SmokeRoom, SmokeSource, Waterlogging
from simulators.physics.water import DRAINAGE_MM_H
from simulators.run.network import UplinkRelay
from streetwatch.clock import Clock
from streetwatch.codec import decode_channel
from streetwatch.kinds import KINDS, Ecosystem, KindName
from streetwatch.messages import TelemetryBatch
from streetwatch.topics import Channel

__all__ = ["Books", "EdgeProcess", "LedgerOutbox", "OffsetClock", "Stand"]

AREA = {"district": "pudong", "street": "huamu", "community": "lianyang"}
WINDOW_S = 1
SLOTS_MS = (20, 220, 420)  # when, within each second, every device publishes
SIM_SPEED = 60.0  # physics seconds per second of the devices' clocks
FLOOD_RAIN_MM_H = 330.0  # 30 cm/min of physics time: orange in about a second
LINK_SECRET = "l" * 40
HUB_API = {"port": 0, "link_secret": LINK_SECRET}


# ------------------------------------------------------------------------------ the devices


@dataclass(frozen=True, slots=True)
class Published:
    """One sample a device published: its own clock's time, the real time, the primary value."""

    sensor: str
    t_ms: int
    real_ms: int
    value: float


@dataclass
class Device:
    """A simulated sensor: its physics, how it publishes, its clock's error."""

    sensor: str
    spec: DeviceSpec
    model: Waterlogging | SmokeRoom
    building: str | None = None
    skew_ms: int = 0
    flood_to_cm: float | None = None  # rain until this depth, then rain the drains carry
    _radio: Transmitter = field(init=False)

    def __post_init__(self) -> None:
        self._radio = Transmitter(self.spec)

    @property
    def kind(self) -> KindName:
        return self.spec.kind

    @property
    def primary(self) -> str:
        return KINDS[self.kind].primary

    def step(self, dt_s: float) -> None:
        if isinstance(self.model, Waterlogging) and self.flood_to_cm is not None:
            rising = self.model.depth_cm < self.flood_to_cm
            self.model.rain_mm_h = FLOOD_RAIN_MM_H if rising else DRAINAGE_MM_H
        self.model.step(dt_s)

    def publish(self, real_ms: int, rng: random.Random) -> tuple[list[Publish], Published]:
        """The publishes of one sample taken at ``real_ms``, and its line in the ledger."""
        values = self.model.read(rng)
        sample = Sample(self.sensor, self.kind, real_ms, values, battery=90, skew_ms=self.skew_ms)
        fm = self.spec.chosen()[self.primary]
        value = published(values[self.primary], fm, KINDS[self.kind].metric(self.primary))
        record = Published(self.sensor, sample.device_ms, real_ms, float(value))
        return [m.publish for m in self._radio.send(sample)], record

    def gateway_entry(self) -> dict[str, Any]:
        """This sensor in gateway.yaml."""
        placement: dict[str, Any] = {"risk_point": "underpass"}
        if self.building is not None:
            placement = {"building": self.building, "floor": 3, "risk_point": "kitchen"}
        source: dict[str, Any] = {
            "ecosystem": self.spec.ecosystem.value,
            "device": self.spec.device,
        }
        if self.spec.base is not None:
            source["base_topic"] = self.spec.base
        return {
            "id": self.sensor,
            "kind": self.kind.value,
            "source": source,
            "placement": placement,
            "report_interval_s": 1,
        }


def street_devices(prefix: str, *, skews_ms: dict[str, int] | None = None) -> list[Device]:
    """A flood gauge at an underpass (plain JSON, ``ts``) and two smoke detectors in building b1
    (Zigbee2MQTT with ``last_seen``), every clock right unless ``skews_ms`` says otherwise."""
    skews = skews_ms or {}
    water = DeviceSpec(Ecosystem.JSON, f"{prefix}/dev/water-1", KindName.WATER_LEVEL)
    out = [Device("water-1", water, Waterlogging(), skew_ms=skews.get("water-1", 0))]
    for n in (1, 2):
        spec = DeviceSpec(
            Ecosystem.ZIGBEE2MQTT, f"b1/smoke-{n}", KindName.SMOKE, base=f"{prefix}/z2m"
        )
        sensor = f"smoke-{n}"
        out.append(Device(sensor, spec, SmokeRoom(), "b1", skew_ms=skews.get(sensor, 0)))
    return out


class Devices:
    """The devices' publishing loop on the gateway's local broker, and the ledger of it."""

    def __init__(self, broker: MosquittoService, devices: Sequence[Device], seed: int = 7) -> None:
        self.broker = broker
        self.devices = {d.sensor: d for d in devices}
        self.log: list[Published] = []
        self.rng = random.Random(seed)
        self._on = asyncio.Event()
        self._round = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._client: aiomqtt.Client | None = None

    async def __aenter__(self) -> Self:
        self._client = aiomqtt.Client(self.broker.host, self.broker.port)
        await self._client.__aenter__()
        self._task = asyncio.create_task(self._load(self._client), name="devices.load")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._client is not None:
            await self._client.__aexit__(None, None, None)

    def run(self) -> None:
        self._on.set()

    async def halt(self) -> None:
        """Stop publishing; returns once the round in progress is out (the ledger is final)."""
        self._on.clear()
        async with self._round:
            if self._task is not None and self._task.done():
                self._task.result()  # what stopped the devices early

    def published(self, sensor: str) -> list[Published]:
        return [p for p in self.log if p.sensor == sensor]

    async def _load(self, client: aiomqtt.Client) -> None:
        step_s = SIM_SPEED / len(SLOTS_MS)  # physics seconds per round
        while True:
            await self._on.wait()
            await asyncio.sleep(_until_next_slot())
            if not self._on.is_set():
                continue
            async with self._round:
                real_ms = int(time.time() * 1000)
                for device in self.devices.values():
                    device.step(step_s)
                    publishes, record = device.publish(real_ms, self.rng)
                    for p in publishes:
                        await client.publish(p.topic, p.payload, qos=1, retain=p.retain)
                    self.log.append(record)


def _until_next_slot() -> float:
    ms = time.time() * 1000
    into = ms % 1000
    for slot in SLOTS_MS:
        if into < slot:
            return (slot - into) / 1000
    return (1000 - into + SLOTS_MS[0]) / 1000


# ----------------------------------------------------------------------------- the gateway


class OffsetClock:
    """The system clock, ``offset_s`` off: a gateway whose NTP is wrong."""

    def __init__(self, offset_s: float) -> None:
        self.offset_s = offset_s

    def now(self) -> float:
        return time.time() + self.offset_s

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))


class LedgerOutbox(SqliteOutbox):
    """The real SQLite outbox, keeping a copy of every record offered to it and the outcome:
    the gateway's own books of what it accepted and what it refused."""

    def __init__(self, path: Path, *, quota_bytes: int) -> None:
        super().__init__(path, quota_bytes=quota_bytes)
        self.ledger: list[tuple[NewRecord, AddOutcome]] = []

    async def add_many(self, items: Sequence[NewRecord]) -> list[AddOutcome]:
        outcomes = await super().add_many(items)
        self.ledger.extend(zip(items, outcomes, strict=True))
        return outcomes


class EdgeProcess:
    """``streetwatch edge run -c gateway.yaml``, started again after each stop or kill."""

    def __init__(self, config_file: Path) -> None:
        self.config_file = config_file
        self.dir = config_file.parent
        self.socket = self.dir / "gw.sock"
        self.outbox = self.dir / "outbox.sqlite3"
        self.runs = 0
        self.process: ManagedProcess | None = None

    async def start(self) -> None:
        self.runs += 1
        self.process = ManagedProcess(
            f"edge-{self.runs}",
            [STREETWATCH, "edge", "run", "-c", str(self.config_file)],
            self.dir / f"edge-{self.runs}.log",
            ready=lambda: unix_socket_answers(self.socket),
            cwd=self.dir,
        )
        await asyncio.to_thread(self.process.start)

    async def stop(self) -> None:
        if self.process is not None:
            await asyncio.to_thread(self.process.stop)

    def kill(self) -> None:
        """SIGKILL: nothing saved on the way down."""
        assert self.process is not None
        self.process.kill()

    async def status(self) -> dict[str, Any]:
        try:
            return await request(self.socket, {"op": "status"})
        except (ConnectionError, OSError):
            return {}


class EdgeInProcess:
    """``EdgeAgent`` in this process, on ``clock``, with a ``LedgerOutbox``."""

    def __init__(self, config_file: Path, clock: Clock | None, quota_mb: float) -> None:
        data = yaml.safe_load(config_file.read_text())
        self.config = GatewayConfig(**data)
        self.dir = config_file.parent
        self.clock = clock
        self.outbox = LedgerOutbox(self.dir / "outbox.sqlite3", quota_bytes=int(quota_mb * 2**20))
        self.agent: EdgeAgent | None = None

    async def start(self) -> None:
        agent = EdgeAgent(self.config, base_dir=self.dir, clock=self.clock, outbox=self.outbox)
        self.agent = await agent.__aenter__()

    async def stop(self) -> None:
        if self.agent is not None:
            agent, self.agent = self.agent, None
            await agent.__aexit__(None, None, None)

    async def status(self) -> dict[str, Any]:
        return await self.agent.status() if self.agent is not None else {}


def gateway_yaml(
    tmp: Path,
    *,
    gateway: str,
    prefix: str,
    local: MosquittoService,
    uplink_port: int,
    devices: Iterable[Device],
    quota_mb: float,
) -> Path:
    data: dict[str, Any] = {
        "gateway": {"id": gateway, "area": AREA},
        "local_broker": {"host": local.host, "port": local.port},
        "uplink": {
            "host": "127.0.0.1",
            "port": uplink_port,
            "topic_prefix": prefix,
            "reconnect_min_s": 0.2,
            "reconnect_max_s": 1,
            "keepalive_s": 5,
            "resend_after_s": 2,
            "replay_rate": 5000,
        },
        "buffer": {"path": "outbox.sqlite3", "quota_mb": quota_mb},
        "reporting": {"window_s": WINDOW_S, "batch_wait_s": 0.2},
        "health": {"interval_s": 5, "control_socket": "gw.sock"},
        "sensors": [d.gateway_entry() for d in devices],
    }
    tmp.mkdir(parents=True, exist_ok=True)
    file = tmp / "gateway.yaml"
    file.write_text(yaml.safe_dump(data), encoding="utf-8")
    return file


def outbox_file_records(path: Path, scratch: Path) -> list[tuple[str, str, int, bytes]]:
    """(boot, channel, seq, payload) of every record in a dead agent's outbox file, read from a
    copy (the agent's next start must find the file as the crash left it)."""
    scratch.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        source = path.with_name(path.name + suffix)
        if source.exists():
            shutil.copy(source, scratch / source.name)
    db = sqlite3.connect(scratch / path.name)
    try:
        rows = db.execute("SELECT boot, channel, seq, payload FROM outbox").fetchall()
    finally:
        db.close()
    return [(boot, channel, int(seq), bytes(payload)) for boot, channel, seq, payload in rows]


# ----------------------------------------------------------------------------- the stand


@dataclass(frozen=True, slots=True)
class Window:
    sensor: str
    start: int
    end: int
    count: int


@dataclass
class Page:
    incident: str
    responder: str
    level: str
    attempt: int
    sent_at: int
    ack_path: str


class Stand:
    """Devices, gateway, uplink relay, hub and webhook of one case (see the module docstring)."""

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
        self.receiver = await stack.enter_async_context(HttpReceiver())
        extra = {"notify": notify_section(self.receiver.url("/page"), "w" * 32), "api": HUB_API}
        config = make_hub_config(self.tmp / "hub", self.broker, self.prefix, extra)
        self.hub: Hub = await stack.enter_async_context(running_hub(config, self.tmp))
        assert self.hub.responding.api is not None
        self.api_url = f"http://127.0.0.1:{self.hub.responding.api.port}"
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

    # -- the responders ---------------------------------------------------------------------

    def pages(self) -> list[Page]:
        out = []
        for r in self.receiver.requests:
            body = r.json()
            url = body["ack_url"]
            out.append(
                Page(
                    body["incident"]["id"],
                    body["recipient"]["id"],
                    body["incident"]["level"],
                    body["attempt"],
                    body["sent_at"],
                    url[url.index("/ack/") :],
                )
            )
        return out

    async def paged(self, hazard: str, level: str, responder: str = GRID_WORKER) -> str:
        """The id of the ``hazard`` incident once ``responder`` got a page for it at ``level``."""

        async def page() -> Page | None:
            for incident in await self.hub.responding.store.recent(100):
                if incident.hazard.value != hazard:
                    continue
                for p in self.pages():
                    if (p.incident, p.responder, p.level) == (incident.id, responder, level):
                        return p
            return None

        async def arrived() -> bool:
            return await page() is not None

        await eventually(arrived, what=f"{responder}'s {level} page for the {hazard}")
        found = await page()
        assert found is not None
        return found.incident

    async def acknowledge(self, incident: str, responder: str = GRID_WORKER) -> None:
        """Tap the one-tap link of the latest page ``responder`` got for ``incident``."""
        links = [
            p.ack_path for p in self.pages() if (p.incident, p.responder) == (incident, responder)
        ]
        async with httpx.AsyncClient(base_url=self.api_url, trust_env=False) as http:
            tapped = await http.post(links[-1])
        assert tapped.status_code == 200, tapped.text

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

    async def rows(self, measurement: str) -> list[Row]:
        await self.hub.writer.flush()
        q = QueryFilter(since_ms=0, measurement=measurement, gateway=self.gateway, limit=10**6)
        return await self.hub.backend.query(q)

    async def stored_windows(self) -> list[Window]:
        out = []
        for kind in {d.kind for d in self.devices.devices.values()}:
            primary = KINDS[kind].primary
            for row in await self.rows(f"{kind.value}_window"):
                span = int(float(row.fields["window_s"]) * 1000)
                count = int(row.fields[f"{primary}_count"])
                out.append(Window(row.tags["sensor"], row.time_ms - span, row.time_ms, count))
        return out

    async def hub_seqs(self, kind: str) -> dict[tuple[str, str], set[int]]:
        """(boot, channel) → sequence numbers the hub recorded as ``kind`` (stored or lost)."""
        await self.hub.sequence.flush()
        snapshot = await self.hub.sequence.store.load()
        out: dict[tuple[str, str], set[int]] = defaultdict(set)
        for r in snapshot.ranges:
            if r.gateway == self.gateway and r.kind == kind:
                out[(r.boot, r.channel)].update(range(r.first, r.last + 1))
        return out

    async def account(self, *, events_at_least: int = 1) -> Books:
        """The books of the case: every check of the module docstring, a table if one fails."""
        books = Books(self)
        await books.collect()
        books.check(events_at_least=events_at_least)
        return books


# ------------------------------------------------------------------------------ the books


def expected_time(p: Published, gateway_offset_ms: int) -> int:
    """The time the gateway gives a sample: its device's, unless the gateway's clock finds it
    implausible (edge/validate.py), then the gateway's receive time (here: its publish time on
    the gateway's clock; the windows do not tell the few ms apart)."""
    received = p.real_ms + gateway_offset_ms
    skew = p.t_ms - received
    if skew > DEFAULT_LIMITS.max_future_ms or -skew > DEFAULT_LIMITS.max_age_ms:
        return received
    return p.t_ms


def arrives_late(published: Iterable[Published], gateway_offset_ms: int) -> bool:
    """Whether a sensor's samples reach the gateway after their window has ended (its device's
    clock is behind the gateway's): each then goes into the next window not yet summarised."""
    for p in published:
        t = expected_time(p, gateway_offset_ms)
        if window_end(t) <= p.real_ms + gateway_offset_ms:
            return True
    return False


def window_end(t: int) -> int:
    return t - t % (WINDOW_S * 1000) + WINDOW_S * 1000


def fates(
    ledger: Iterable[tuple[NewRecord, AddOutcome]], lost: dict[tuple[str, str], set[int]]
) -> dict[str, list[tuple[Window, str]]]:
    """Per sensor, the windows summarised in the telemetry records of a gateway's ledger, with
    what became of each: ``stored`` (in the outbox, or sent), ``refused`` (over the quota), or
    ``lost`` (evicted for an alarm, and the hub told: ``lost`` has its seq)."""
    out: dict[str, list[tuple[Window, str]]] = defaultdict(list)
    for record, outcome in ledger:
        if record.channel != Channel.DATA.value:
            continue
        fate = "refused" if outcome is AddOutcome.DROPPED_QUOTA else "stored"
        if fate == "stored" and record.seq in lost.get((record.boot, record.channel), set()):
            fate = "lost"
        batch = decode_channel(record.payload, Channel.DATA)
        assert isinstance(batch, TelemetryBatch)
        for summary in batch.summaries:
            stats = summary.stats.get(KINDS[summary.kind].primary)
            window = Window(summary.sensor, summary.start, summary.end, stats.count if stats else 0)
            out[summary.sensor].append((window, fate))
    return out


class Books:
    """Published against accepted, stored, reported lost; events; incidents; pages."""

    def __init__(self, stand: Stand) -> None:
        self.stand = stand
        self.problems: list[str] = []
        self.table: list[tuple[str, ...]] = []

    async def collect(self) -> None:
        s = self.stand
        self.windows = await s.stored_windows()
        self.raw = {k: await s.rows(k.value) for k in {d.kind for d in s.devices.devices.values()}}
        self.events = await s.rows("anomaly_event")
        self.health = await s.rows("gateway_health")
        self.stored_seqs = await s.hub_seqs("stored")
        self.lost_seqs = await s.hub_seqs("lost")
        self.status = await s.edge.status()
        self.incidents = await s.hub.responding.store.recent(1000)
        self.pending = s.hub.responding.escalator.pending()
        self.pages = s.pages()
        self.ledger = s.edge.outbox.ledger if isinstance(s.edge, EdgeInProcess) else []

    # -- what the gateway numbered --------------------------------------------------------

    def numbered(self) -> dict[tuple[str, str], set[int]]:
        """(boot, channel) → every seq the gateway gave a record, from its own books: the
        ledger (in-process), the live agent's counters, and for a killed boot its outbox file
        as the kill left it (what it held) with what the hub had confirmed (it held no more)."""
        out: dict[tuple[str, str], set[int]] = defaultdict(set)
        for record, outcome in self.ledger:
            if outcome is not AddOutcome.DROPPED_QUOTA:
                out[(record.boot, record.channel)].add(record.seq)
        counters = {(w, r): n for w, r, n in self.status.get("counters", [])}
        live = str(self.status.get("boot", ""))
        for channel, reason in (("event", "event"), ("data", "telemetry")):
            out[(live, channel)].update(range(counters.get(("enqueued", reason), 0)))
        for boot, channel, seq, _ in self.stand.killed_records:
            out[(boot, channel)].add(seq)
        for (boot, channel), seqs in self.stored_seqs.items():
            if boot in self.stand.killed_boots:
                held = out[(boot, channel)]
                held.update(range(max(seqs | held) + 1))
        return out

    # -- the checks -----------------------------------------------------------------------

    def check(self, *, events_at_least: int) -> None:
        self._check_records()
        self._check_readings()
        self._check_raw()
        self._check_events(events_at_least)
        self._check_health()
        self._check_incidents_and_pages()
        if self.problems:
            raise AssertionError(self.report())

    def _boot_number(self, boot: str) -> str:
        boots = self.stand.boots
        return f"{boots.index(boot) + 1} ({boot[:6]})" if boot in boots else boot[:6]

    def _problem(self, text: str) -> None:
        self.problems.append(text)

    def _check_records(self) -> None:
        """Every record numbered is stored at the hub or reported lost, never both."""
        numbered = self.numbered()
        for (boot, channel), seqs in sorted(numbered.items()):
            if channel not in ("data", "event"):
                continue
            stored = self.stored_seqs.get((boot, channel), set())
            lost = self.lost_seqs.get((boot, channel), set())
            which = f"{channel}, boot {self._boot_number(boot)}"
            self.table.append(
                ("records", which, str(len(seqs)), str(len(stored)), str(len(lost)), "")
            )
            if missing := seqs - stored - lost:
                self._problem(f"{channel} {boot}: numbered but neither stored nor lost: "
                              f"{sorted(missing)[:20]}")  # fmt: skip
            if both := stored & lost:
                self._problem(f"{channel} {boot}: stored and reported lost: {sorted(both)[:20]}")
            if extra := (stored | lost) - seqs:
                self._problem(f"{channel} {boot}: the hub has seqs never numbered: "
                              f"{sorted(extra)[:20]}")  # fmt: skip
            if channel == "event" and lost:
                self._problem(f"events reported lost: {sorted(lost)}")

    def edge_windows(self) -> dict[str, list[tuple[Window, str]]]:
        """Per sensor, the windows of the gateway's ledger and their fates (see ``fates``)."""
        return fates(self.ledger, self.lost_seqs)

    def _check_readings(self) -> None:
        """Each published reading is counted by exactly one window: one the hub stored, or one
        the gateway refused or evicted (and told the hub of); around a kill, maybe by none."""
        s = self.stand
        hub_windows: dict[str, list[Window]] = defaultdict(list)
        for w in self.windows:
            hub_windows[w.sensor].append(w)
        edge_windows = self.edge_windows()
        for sensor in s.devices.devices:
            times = sorted(
                expected_time(p, s.gateway_offset_ms) for p in s.devices.published(sensor)
            )
            windows: list[tuple[Window, str]] = [(w, "stored") for w in hub_windows[sensor]]
            if self.ledger:
                self._compare_with_ledger(sensor, edge_windows[sensor], hub_windows[sensor])
                windows += [(w, fate) for w, fate in edge_windows[sensor] if fate != "stored"]
            windows.sort(key=lambda wf: wf[0].start)
            for (a, _), (b, _) in itertools.pairwise(windows):
                if b.start < a.end:
                    self._problem(f"{sensor}: windows overlap: {a} and {b}")
            late = arrives_late(s.devices.published(sensor), s.gateway_offset_ms)
            fates: Counter[str] = Counter()
            for w, fate in windows:
                fates[fate] += w.count
            if late:
                self._check_late_windows(sensor, times, [w for w, _ in windows])
            for w, fate in [] if late else windows:
                inside = sum(1 for t in times if w.start <= t < w.end)
                near_kill = any(lo < w.end and w.start < hi for lo, hi in s.lost_in_kill)
                if w.count != inside and not (near_kill and w.count < inside):
                    self._problem(
                        f"{sensor}: window {w.start}..{w.end} ({fate}) counts {w.count} "
                        f"readings, {inside} were published in it"
                    )
            stray = [
                t
                for t in times
                if not late
                and not any(w.start <= t < w.end for w, _ in windows)
                and not any(lo <= t < hi for lo, hi in s.lost_in_kill)
            ]
            if stray:
                self._problem(f"{sensor}: {len(stray)} readings in no window, e.g. at {stray[:3]}")
            unacknowledged = len(times) - sum(fates.values())
            self.table.append(
                ("readings", sensor, str(len(times)), str(fates["stored"]), str(fates["lost"]),
                 f"refused {fates['refused']}, never acknowledged {unacknowledged}")
            )  # fmt: skip
            if not times:
                self._problem(f"{sensor}: nothing was published")

    def _check_raw(self) -> None:
        """Samples sent one by one (streamed while an anomaly is active) are stored at their
        time with their value: each is one the device published (re-timed ones: within 2 s of
        when it was published, on the gateway's clock)."""
        s = self.stand
        for sensor, device in s.devices.devices.items():
            published = s.devices.published(sensor)
            by_time = {expected_time(p, s.gateway_offset_ms): p for p in published}
            rows = [r for r in self.raw[device.kind] if r.tags["sensor"] == sensor]
            for row in rows:
                value = float(row.fields[device.primary])
                p = by_time.get(row.time_ms)
                if p is not None and math.isclose(p.value, value, rel_tol=1e-9):
                    continue
                received = [
                    q
                    for q in published
                    if expected_time(q, s.gateway_offset_ms) != q.t_ms
                    and 0 <= row.time_ms - (q.real_ms + s.gateway_offset_ms) < 2000
                    and math.isclose(q.value, value, rel_tol=1e-9)
                ]
                if not received:
                    self._problem(
                        f"{sensor}: stored sample {row.time_ms} = {value} was never published"
                    )
            self.table.append(("streamed", sensor, "", str(len(rows)), "", ""))

    def _check_late_windows(self, sensor: str, times: list[int], windows: list[Window]) -> None:
        """A device whose clock is behind the gateway's (but less than 24 h: trusted) has its
        samples arrive after their window was summarised: each goes into the next window
        (edge/reporting.py). In order, each window counts the next readings, none of them
        later than its end nor more than one window earlier than its start."""
        queue = list(times)
        for w in windows:
            taken, queue = queue[: w.count], queue[w.count :]
            if len(taken) < w.count:
                self._problem(
                    f"{sensor}: window {w.start}..{w.end} counts readings never published"
                )
            wrong = [t for t in taken if not w.start - WINDOW_S * 1000 <= t < w.end]
            if wrong:
                self._problem(f"{sensor}: window {w.start}..{w.end} counts readings of {wrong}")
        if queue:
            self._problem(f"{sensor}: {len(queue)} readings counted by no window, from {queue[0]}")

    def _compare_with_ledger(
        self, sensor: str, ledger: list[tuple[Window, str]], stored: list[Window]
    ) -> None:
        kept = Counter((w.start, w.end, w.count) for w, fate in ledger if fate == "stored")
        at_hub = Counter((w.start, w.end, w.count) for w in stored)
        if kept != at_hub:
            self._problem(
                f"{sensor}: windows the gateway kept vs stored at the hub: "
                f"missing {sorted((kept - at_hub).elements())[:5]}, "
                f"extra {sorted((at_hub - kept).elements())[:5]}"
            )

    def _check_events(self, at_least: int) -> None:
        """Every event the gateway numbered is in the hub's store, once, under its own id."""
        numbered = self.numbered()
        ids = Counter(str(r.fields["id"]) for r in self.events)
        expected = {
            f"{self.stand.gateway}.{boot}.{seq}"
            for (boot, channel), seqs in numbered.items()
            if channel == "event"
            for seq in seqs
        }
        self.table.append(
            ("events", "all boots", str(len(expected)), str(len(ids)), "0",
             f"twice {sum(1 for n in ids.values() if n > 1)}")
        )  # fmt: skip
        if set(ids) != expected:
            self._problem(
                f"events raised at the edge vs stored: missing {sorted(expected - set(ids))[:5]},"
                f" unknown {sorted(set(ids) - expected)[:5]}"
            )
        if doubled := [i for i, n in ids.items() if n > 1]:
            self._problem(f"events stored twice: {doubled[:5]}")
        if len(expected) < at_least:
            self._problem(f"only {len(expected)} events raised, the case needs {at_least}")

    def _check_health(self) -> None:
        """The hub knows how much telemetry the gateway dropped: its latest health says so."""
        dropped = sum(self.status.get("buffer", {}).get("dropped", {}).values())
        latest = max(self.health, key=lambda r: r.time_ms, default=None)
        told = int(latest.fields["dropped_total"]) if latest is not None else 0
        self.table.append(("dropped", "telemetry records", str(dropped), "", str(told), "(hub)"))
        if dropped and told != dropped:
            self._problem(f"the gateway dropped {dropped} telemetry records, its last health "
                          f"at the hub says {told}")  # fmt: skip

    def _check_incidents_and_pages(self) -> None:
        """One incident per hazard and place; nobody paged about an answered incident."""
        keys = Counter(i.key for i in self.incidents)
        for key, n in sorted(keys.items()):
            self.table.append(("incidents", key, str(n), "", "", ""))
            if n > 1:
                self._problem(f"incident {key} opened {n} times")
        pending = {p.incident_id for p in self.pending}
        per: Counter[tuple[str, str]] = Counter((p.incident, p.responder) for p in self.pages)
        for incident in self.incidents:
            after = [
                p
                for p in self.pages
                if p.incident == incident.id
                and incident.acknowledged_at is not None
                and p.sent_at > incident.acknowledged_at
            ]
            for (inc, who), n in sorted(per.items()):
                if inc == incident.id:
                    self.table.append(
                        ("pages", f"{incident.hazard} {who}", str(n), incident.state.value,
                         str(len([p for p in after if p.responder == who])), "")
                    )  # fmt: skip
            if incident.acknowledged_at is None:
                continue
            if after:
                self._problem(
                    f"{incident.id} ({incident.key}) paged after it was answered: {after}"
                )
            if incident.id in pending:
                self._problem(f"{incident.id} answered but still has pages scheduled")

    def report(self) -> str:
        head = ("what", "which", "published/numbered", "stored", "lost", "")
        rows = [head, *self.table]
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
        problems = ["", "what does not add up:", *self.problems] if self.problems else []
        return "\n".join(["the books of the case:", *lines, *problems])
