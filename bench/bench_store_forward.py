"""Store and forward: what a one-hour uplink outage leaves in a gateway's outbox, how long it
takes to drain once the link is back, and how late a live alarm raised during the drain is.

Not a test. The real ``EdgeAgent`` (in this process) with N sensors each reporting every
``--period-s`` (bench/_gateway.py: the simulator's devices, physics and payloads), its SQLite
outbox on disk (synchronous=FULL), a private Mosquitto as its local broker, and its uplink
through an ``UplinkRelay`` (simulators/run/network.py) to a second private Mosquitto, the hub
broker, where ``ConfirmingPeer`` (bench/_peer.py) confirms in ranges once a second, as the
hub's Confirmer does. Gateway config as generated (replay_rate 200/s, resend after 30 s,
reconnect backoff 1..60 s), unless ``--replay-rate``.

1. Connected, then the relay is cut: the uplink drops, and reconnects are refused.
2. The outage, on a ``ManualClock``, one simulated second at a time: the devices' publishes due
   that second go to the agent's message handler (``EdgeAgent._on_local``, what its
   ``LocalSource`` calls for every local-broker message), then the clock moves one second, the
   agent's own timers run (the per-second tick, the per-minute summaries, the health message,
   the uplink's reconnect backoff), and the bench waits until they sleep again.
   Why this is the hour: nothing in the agent reads the wall clock (every timer and timestamp
   comes from the injected clock), and the local broker's hop only carries each payload to that
   same handler, in order. So the outbox receives the records an hour offline would leave
   (same summaries, readings, health messages, sizes, timestamps), without waiting the hour.
   What differs: no broker hop, and no concurrency between messages and timers within a second.
3. At the end of the outage the relay is restored; the clock keeps moving a second at a time,
   devices still reporting, until the agent's next reconnect attempt (its backoff) succeeds.
4. The drain, on real time (the same clock, now moved forward as real time passes): the
   devices keep reporting, now through the real local broker; a few smoke detectors go into
   alarm while the backlog drains, each timed from the device's publish to the event's arrival
   at the peer. The drain ends when the peer has received every record created before the
   reconnect. Three more alarms, from a second after the drain on, half a second apart, give
   the latency on an idle uplink. The agent, the devices and the peer share this process's
   event loop, so the latencies include their waits for each other.

The default reports every 2 s so that the run stays near three minutes on a 2-core machine;
``--period-s 1`` is the 1 Hz gateway of bench_edge.py (about twice the fill time).

    .venv/bin/python bench/bench_store_forward.py                   # 200 sensors, 1 h outage
    .venv/bin/python bench/bench_store_forward.py --period-s 1      # 1 Hz
    .venv/bin/python bench/bench_store_forward.py --alert-mode      # 战时: every sample streamed
    .venv/bin/python bench/bench_store_forward.py --replay-rate 1000
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import aiomqtt
from _gateway import BenchGateway, Devices, beijing, bench_gateway, publish_rounds
from _peer import ConfirmingPeer

from edge.agent import EdgeAgent
from edge.config import GatewayConfig
from simulators.run.brokers import Broker
from simulators.run.network import UplinkRelay
from streetwatch.clock import ManualClock, now_ms
from streetwatch.codec import encode
from streetwatch.messages import AnomalyEvent, EventState, TelemetryBatch
from streetwatch.topics import Channel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.waiting import eventually

BACKLOG_CHANNELS = (Channel.EVENT, Channel.HEALTH, Channel.DATA)
SETTLE_LIMIT_S = 2.0
IDLE_ALARMS = 3


# ------------------------------------------------------------------------------ time


async def real_time(clock: ManualClock, step_s: float) -> None:
    """Move the manual clock forward as real time passes (the drain runs on real time)."""
    last = time.monotonic()
    while True:
        await asyncio.sleep(step_s)
        now = time.monotonic()
        await clock.advance(now - last)
        last = now


async def settle(clock: ManualClock, sleepers: int, agent: EdgeAgent) -> bool:
    """Wait until the agent's loops woken by the last advance sleep again (their outbox writes
    run in a thread, beyond ``ManualClock.settle``), or the uplink came up; False if they did
    not within ``SETTLE_LIMIT_S``."""
    deadline = time.monotonic() + SETTLE_LIMIT_S
    # no event says "every loop is asleep": poll
    while clock.sleepers < sleepers and not agent.uplink.connected.is_set():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.0005)
    return True


# ------------------------------------------------------------------------------ the outage


@dataclass
class Fill:
    samples: int = 0
    seconds: int = 0
    real_s: float = 0.0
    reconnect_wait_s: float = 0.0
    unsettled: int = 0  # seconds after which the agent's timers had not gone back to sleep
    depth: dict[str, int] = field(default_factory=dict)
    payload_mb: float = 0.0
    disk_mb: float = 0.0
    records: dict[str, int] = field(default_factory=dict)


def _disk_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.parent.glob(f"{path.name}*")) / 1e6


async def outage(
    agent: EdgeAgent,
    clock: ManualClock,
    devices: Devices,
    relay: UplinkRelay,
    outage_s: int,
    period_s: int,
    outbox_path: Path,
) -> Fill:
    fill = Fill()
    began = time.perf_counter()
    restored_at: float | None = None
    while not agent.uplink.connected.is_set():
        if fill.seconds == outage_s:
            stats = await agent.outbox.stats()
            fill.depth = {lane.name.lower(): n for lane, n in stats.depth.items()}
            fill.payload_mb = stats.bytes / 1e6
            fill.disk_mb = _disk_mb(outbox_path)
            fill.records = {c.value: agent.sequencer.peek(c) for c in BACKLOG_CHANNELS}
            fill.real_s = time.perf_counter() - began
            await relay.restore("uplink")
            restored_at = clock.now()
        if fill.seconds % period_s == 0:
            count, publishes = devices.step(now_ms(clock), period_s)
            for p in publishes:
                await agent._on_local(p.topic, p.payload)
            fill.samples += count
        sleepers = clock.sleepers
        await clock.advance(1.0)
        if not await settle(clock, sleepers, agent):
            fill.unsettled += 1
        fill.seconds += 1
        if fill.seconds % (outage_s // 10 or 1) == 0:
            print(f"  ... {fill.seconds} simulated s", file=sys.stderr, flush=True)
    assert restored_at is not None, "the uplink came back before the relay was restored"
    fill.reconnect_wait_s = clock.now() - restored_at
    return fill


# ------------------------------------------------------------------------------ the drain


class Arrivals:
    """Reads the peer's log as it grows: which backlog records arrived, and when."""

    def __init__(self, peer: ConfirmingPeer, boot: str, backlog: dict[str, set[int]]) -> None:
        self.peer = peer
        self.boot = boot
        self.missing = {channel: set(seqs) for channel, seqs in backlog.items()}
        self.backlog_total = sum(len(s) for s in backlog.values())
        self.backlog_arrivals: list[float] = []  # first arrival of each backlog record
        self.duplicates = 0
        self.readings = self.summaries = 0
        self._seen: dict[str, set[int]] = defaultdict(set)
        self._read = 0

    def update(self) -> bool:
        """Take what arrived since; True once every backlog record has arrived."""
        log, arrivals = self.peer.log, self.peer.arrivals
        while self._read < len(log):
            received, at = log[self._read], arrivals[self._read]
            self._read += 1
            message = received.message
            seq = getattr(message, "seq", None)
            if seq is None or getattr(message, "boot", None) != self.boot:
                continue
            channel = received.channel.value
            if seq in self._seen[channel]:
                self.duplicates += 1
                continue
            self._seen[channel].add(seq)
            if seq in self.missing.get(channel, ()):
                self.missing[channel].discard(seq)
                self.backlog_arrivals.append(at)
                if isinstance(message, TelemetryBatch):
                    self.readings += len(message.readings)
                    self.summaries += len(message.summaries)
        return not any(self.missing.values())


@dataclass(frozen=True)
class Alarm:
    sensor: str
    fired_at: float  # perf_counter of the device's publish
    offset_s: float  # since the reconnect
    latency_s: float | None = None
    backlog_after: int = 0  # backlog records that arrived after it: it jumped them


async def fire_alarm(
    devices: Devices, client: aiomqtt.Client, sensor: str, clock: ManualClock, since: float
) -> Alarm:
    fired = time.perf_counter()
    for p in devices.smoke_alarm(sensor, now_ms(clock)):
        await client.publish(p.topic, p.payload, qos=0, retain=p.retain)
    return Alarm(sensor, fired, fired - since)


def arrived(peer: ConfirmingPeer, alarm: Alarm, backlog_arrivals: list[float]) -> Alarm:
    for received, at in zip(peer.log, peer.arrivals, strict=True):
        m = received.message
        if (
            isinstance(m, AnomalyEvent)
            and m.sensor == alarm.sensor
            and m.state is EventState.RAISED
            and at >= alarm.fired_at
        ):
            after = sum(1 for t in backlog_arrivals if t > at)
            return Alarm(alarm.sensor, alarm.fired_at, alarm.offset_s, at - alarm.fired_at, after)
    return alarm


def _alarm_received(peer: ConfirmingPeer, alarm: Alarm) -> bool:
    return arrived(peer, alarm, []).latency_s is not None


@dataclass
class Drain:
    backlog: int
    seconds: float
    payload_mb: float
    readings: int
    summaries: int
    duplicates: int
    alarms: list[Alarm]
    idle: list[Alarm]


async def drain(
    agent: EdgeAgent,
    clock: ManualClock,
    devices: Devices,
    peer: ConfirmingPeer,
    local: Broker,
    backlog: dict[str, set[int]],
    alarms: int,
    period_s: int,
    within_s: float,
) -> Drain:
    reconnected = time.perf_counter()
    driver = asyncio.create_task(real_time(clock, 0.002), name="bench.real_time")
    arrivals = Arrivals(peer, agent.sequencer.boot, backlog)
    smoke = devices.smoke_detectors()
    estimate_s = arrivals.backlog_total / agent.config.uplink.replay_rate
    offsets = [0.2 + 0.8 * estimate_s * i / max(alarms, 1) for i in range(alarms)]
    try:
        async with aiomqtt.Client(local.host, local.port, identifier="bench-devices") as client:
            loop = asyncio.get_running_loop()
            feeder = asyncio.create_task(
                publish_rounds(
                    devices, client, 10**6, loop.time(), lambda: now_ms(clock), period_s
                ),
                name="bench.devices",
            )
            fired = []
            for n, offset in enumerate(offsets):
                await asyncio.sleep(max(0.0, reconnected + offset - time.perf_counter()))
                fired.append(await fire_alarm(devices, client, smoke[n], clock, reconnected))
            try:
                await eventually(arrivals.update, within_s=within_s, what="the backlog to drain")
            except AssertionError:
                missing = {c: sorted(m)[:10] for c, m in arrivals.missing.items() if m}
                stats = await agent.outbox.stats()
                raise AssertionError(
                    f"backlog records never arrived: {missing} (first 10 per channel); "
                    f"outbox {stats}; counters {agent.counters.items()}"
                ) from None
            done_at = max(arrivals.backlog_arrivals, default=reconnected)
            for alarm in fired:
                await eventually(partial(_alarm_received, peer, alarm), what="an alarm")
            idle = []
            for n in range(alarms, alarms + IDLE_ALARMS):  # after the last replay pause
                await asyncio.sleep(1.0 if n == alarms else 0.5)
                idle.append(await fire_alarm(devices, client, smoke[n], clock, reconnected))
            for alarm in idle:
                await eventually(partial(_alarm_received, peer, alarm), what="an idle alarm")
            feeder.cancel()
    finally:
        driver.cancel()
    backlog_mb = _backlog_payload_mb(peer, agent.sequencer.boot, backlog)
    return Drain(
        backlog=arrivals.backlog_total,
        seconds=done_at - reconnected,
        payload_mb=backlog_mb,
        readings=arrivals.readings,
        summaries=arrivals.summaries,
        duplicates=arrivals.duplicates,
        alarms=[arrived(peer, a, arrivals.backlog_arrivals) for a in fired],
        idle=[arrived(peer, a, arrivals.backlog_arrivals) for a in idle],
    )


def _backlog_payload_mb(peer: ConfirmingPeer, boot: str, backlog: dict[str, set[int]]) -> float:
    """The backlog's size as the peer received it (re-encoded from the decoded messages)."""
    seen: set[tuple[str, int]] = set()
    size = 0
    for received in peer.log:
        m = received.message
        key = (received.channel.value, getattr(m, "seq", -1))
        mine = getattr(m, "boot", None) == boot and key[1] in backlog.get(key[0], ())
        if mine and key not in seen:
            seen.add(key)
            size += len(encode(m))
    return size / 1e6


# ------------------------------------------------------------------------------ the run


def received_seqs(peer: ConfirmingPeer, boot: str) -> dict[str, set[int]]:
    out: dict[str, set[int]] = defaultdict(set)
    for r in peer.log:
        seq = getattr(r.message, "seq", None)
        if seq is not None and getattr(r.message, "boot", None) == boot:
            out[r.channel.value].add(seq)
    return out


def config_for(
    bench: BenchGateway, local: Broker, relay: UplinkRelay, work: Path, replay_rate: float | None
) -> GatewayConfig:
    data = bench.config((local.host, local.port), ("127.0.0.1", relay.port))
    data["buffer"] = {"path": str(work / "outbox.sqlite3")}
    data["health"] = {"control_socket": str(work / "gw.sock")}
    if replay_rate is not None:
        data["uplink"]["replay_rate"] = replay_rate
    return GatewayConfig(**data)


async def bench(args: argparse.Namespace) -> tuple[BenchGateway, GatewayConfig, Fill, Drain]:
    gateway = bench_gateway(args.sensors, args.seed)
    smoke = sum(1 for s in gateway.gateway.sensors if s.kind.value == "smoke")
    if args.alarms + IDLE_ALARMS > smoke:
        raise SystemExit(f"--alarms: at most {smoke - IDLE_ALARMS} with {smoke} smoke detectors")
    with tempfile.TemporaryDirectory(prefix="bench-sf-") as tmp:
        work = Path(tmp)
        async with (
            Broker(work / "local-broker", name="local") as local,
            Broker(work / "hub-broker", name="hub") as hub,
            UplinkRelay(hub.host, hub.port, name="uplink") as relay,
            ConfirmingPeer(hub.host, hub.port, client_id="bench-hub") as peer,
        ):
            config = config_for(gateway, local, relay, work, args.replay_rate)
            start_s = float(int(time.time()) - args.outage_s - 3600)
            clock = ManualClock(start_s)
            devices = Devices(gateway, beijing(start_s))
            agent = EdgeAgent(config, base_dir=work, clock=clock, rng=random.Random(args.seed))
            async with agent:
                if args.alert_mode:
                    agent.pipeline.set_alert_mode(True)
                boot = agent.sequencer.boot
                await peer.wait_for(lambda h: any(s.online and s.boot == boot for s in h.states()))
                await eventually(lambda: agent.local.connected, what="the local broker")
                relay.cut("uplink")
                await eventually(lambda: not agent.uplink.connected.is_set(), what="the cut")
                before = received_seqs(peer, boot)
                fill = await outage(
                    agent, clock, devices, relay, args.outage_s, args.period_s, config.buffer.path
                )
                backlog = {
                    c.value: set(range(agent.sequencer.peek(c))) - before.get(c.value, set())
                    for c in BACKLOG_CHANNELS
                }
                result = await drain(
                    agent,
                    clock,
                    devices,
                    peer,
                    local,
                    backlog,
                    args.alarms,
                    args.period_s,
                    args.within_s,
                )
    return gateway, config, fill, result


def report(
    args: argparse.Namespace, gateway: BenchGateway, config: GatewayConfig, f: Fill, d: Drain
) -> None:
    mode = "alert mode (战时: every sample streamed)" if args.alert_mode else "normal times (平时)"
    print(gateway.describe())
    print(
        f"outage of {args.outage_s} s, {gateway.sensors} sensors every {args.period_s} s, {mode}; "
        f"replay_rate {config.uplink.replay_rate:g}/s, confirms in ranges every 1 s"
    )
    print(
        f"  filled in {f.real_s:.0f} s real time: {f.samples:,} samples over "
        f"{f.seconds} simulated s (outage + reconnect wait)"
    )
    depth = ", ".join(f"{lane} {n:,}" for lane, n in f.depth.items())
    made = ", ".join(f"{c} {n:,}" for c, n in f.records.items())
    print(f"  outbox at the end of the outage: {sum(f.depth.values()):,} records ({depth})")
    print(f"    records made this boot by then: {made}")
    print(f"    {f.payload_mb:.1f} MB of payload; {f.disk_mb:.1f} MB on disk (database + WAL)")
    print(f"  reconnect {f.reconnect_wait_s:.1f} s after the link came back (uplink backoff)")
    if f.unsettled:
        print(f"  warning: {f.unsettled} simulated seconds ended before the agent's timers slept")
    print(
        f"  drain: {d.backlog:,} backlog records ({d.payload_mb:.1f} MB as sent; "
        f"{d.readings:,} readings, {d.summaries:,} summaries) all at the peer "
        f"{d.seconds:.1f} s after the reconnect = {d.backlog / max(d.seconds, 1e-9):,.0f} "
        f"records/s, {d.payload_mb / max(d.seconds, 1e-9):.2f} MB/s; {d.duplicates} duplicates"
    )
    print("  live alarms (smoke detector → local broker → agent → hub broker → peer):")
    print(f"    {'fired':>9} {'latency':>9}  backlog records still behind it")
    for a in d.alarms:
        latency = f"{a.latency_s * 1000:7.0f} ms" if a.latency_s is not None else "     lost"
        print(f"    {a.offset_s:>7.2f} s {latency}  {a.backlog_after:,}")
    lat = [a.latency_s for a in d.alarms if a.latency_s is not None]
    if lat:
        print(
            f"    during the drain: median {statistics.median(lat) * 1000:.0f} ms, "
            f"max {max(lat) * 1000:.0f} ms; "
            f"{sum(1 for a in d.alarms if a.backlog_after)} of {len(d.alarms)} arrived "
            "ahead of backlog records"
        )
    idle = ", ".join(
        f"{a.latency_s * 1000:.0f} ms" if a.latency_s is not None else "lost" for a in d.idle
    )
    print(f"    after the drain (idle uplink): {idle}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sensors", type=int, default=200, help="sensors (a multiple of 20)")
    parser.add_argument("--seed", type=int, default=1, help="the gateway's and agent's seed")
    parser.add_argument("--outage-s", type=int, default=3600, help="simulated outage length")
    parser.add_argument("--period-s", type=int, default=2, help="every sensor reports this often")
    parser.add_argument("--alert-mode", action="store_true", help="stream every sample (战时)")
    parser.add_argument("--replay-rate", type=float, help="uplink.replay_rate (default: config)")
    parser.add_argument("--alarms", type=int, default=5, help="live alarms during the drain")
    parser.add_argument("--within-s", type=float, default=300, help="longest drain to wait for")
    logging.basicConfig(level=logging.ERROR)  # expected: reconnects, the peer's last confirms
    args = parser.parse_args()
    gateway, config, fill, result = asyncio.run(bench(args))
    report(args, gateway, config, fill, result)


if __name__ == "__main__":
    main()
