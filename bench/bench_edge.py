"""What one gateway costs: CPU and memory of the edge agent with N sensors at 1 Hz, and how many
readings per second one core takes through the whole edge pipeline.

Not a test. Two parts:

* ``process``: the real agent (``streetwatch edge run``, a child process) reads a private
  Mosquitto (the local broker) where the simulator's devices publish every sensor once a second:
  a generated gateway with every kind, in the ecosystems the kind table maps them to
  (Zigbee2MQTT, ChirpStack v4, Tasmota, plain JSON), payloads as the simulator writes them.
  It reports to a second private Mosquitto (the hub broker), where ``ConfirmingPeer``
  (bench/_peer.py: the tests' HubPeer confirming through the hub's own Confirmer) confirms
  every record as the hub does, so the outbox stays drained. After a warm-up, the agent's CPU
  (utime + stime from /proc, its threads included) and RSS are read over the measured
  seconds (also per 30 s, to show a trend); the local broker's CPU is shown beside it. The
  rate-of-change detectors keep up to 300 s of samples (gas; water 180 s, hydrants 120 s) and
  fit a line over all of them at every sample, so at 1 Hz the agent's cost grows over its
  first five minutes: ``--warmup 300`` measures the steady state (a 7-minute run).
* ``pipeline``: the same devices' payloads, generated beforehand, go through
  ``Pipeline.on_message`` (route, decode, validate, detect, summarise), then the enqueue stage
  into a SQLite outbox (synchronous=FULL, as the agent opens it), as fast as one coroutine can
  push them; between sensor rounds a manual clock moves one second and the agent's per-second
  ``tick`` and per-minute summaries run, as its loops do (the data path of ``EdgeAgent``:
  ``_emit``, ``_tick_loop``, ``_summary_loop``). 300 simulated seconds of warm-up fill the
  rate windows, then 120 are measured. ``normal`` is normal times (平时: report by exception
  and one summary per sensor per minute); ``alert`` is the street's alert mode (战时: every
  sample streamed, so every sample goes into the outbox). 60 more seconds of one mode under
  cProfile give the top 10 functions by own time and the time per stage.

    .venv/bin/python bench/bench_edge.py                        # 200 sensors, 90 s measured
    .venv/bin/python bench/bench_edge.py --part process --warmup 300 --seconds 120
    .venv/bin/python bench/bench_edge.py --part pipeline --pipeline-seconds 600 --profile alert
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import logging
import os
import pstats
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiomqtt
import yaml
from _gateway import BenchGateway, Devices, beijing, bench_gateway, publish_rounds
from _peer import ConfirmingPeer

from edge.config import GatewayConfig
from edge.control import request
from edge.enqueue import Enqueuer
from edge.outbox import SqliteOutbox
from edge.pipeline import Outputs, Pipeline
from edge.sequence import Sequencer
from simulators.run.brokers import Broker
from streetwatch.clock import ManualClock, now_ms
from streetwatch.counters import Counters
from streetwatch.topics import Channel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.services import ManagedProcess, unix_socket_answers
from support.waiting import eventually

STREETWATCH = str(Path(sys.executable).with_name("streetwatch"))
TICKS_PER_S = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------------------ /proc readings


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak) of a process, in kB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


# ------------------------------------------------------------------------------ the process


def wall_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class ProcessResult:
    seconds: float
    samples: int
    publishes: int
    agent_cpu_s: float
    broker_cpu_s: float
    rss_steady_mb: float
    rss_peak_mb: float
    cores_per_30s: list[float]
    upstream_readings: int
    upstream_summaries: int
    summarised_samples: int
    upstream_records: int
    counters: list[list[object]]
    sensors_seen: int
    late_s: float


def _write_config(bench: BenchGateway, local: Broker, hub: Broker, work: Path) -> Path:
    data = bench.config((local.host, local.port), (hub.host, hub.port))
    data["buffer"] = {"path": str(work / "outbox.sqlite3")}
    data["health"] = {"control_socket": str(work / "gw.sock")}
    GatewayConfig(**data)  # refuse a bad config here rather than in the child's log
    path = work / "gateway.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return path


@dataclass(frozen=True)
class Probe:
    at: float  # the loop's time
    cpu_s: float
    rss_kb: int


async def _probe(pid: int, every_s: float, into: list[Probe]) -> None:
    loop = asyncio.get_running_loop()
    while True:
        into.append(Probe(loop.time(), cpu_seconds(pid), memory_kb(pid)["VmRSS"]))
        await asyncio.sleep(every_s)


def _cores_per_window(probes: list[Probe], window_s: float) -> list[float]:
    """The agent's CPU in cores over consecutive windows of the measured seconds."""
    out = []
    start = probes[0]
    for p in probes[1:]:
        if p.at - start.at >= window_s - 0.5:
            out.append((p.cpu_s - start.cpu_s) / (p.at - start.at))
            start = p
    return out


async def run_process(bench: BenchGateway, seconds: int, warmup: int, work: Path) -> ProcessResult:
    async with (
        Broker(work / "local-broker", name="local") as local,
        Broker(work / "hub-broker", name="hub") as hub,
        ConfirmingPeer(hub.host, hub.port, client_id="bench-hub") as peer,
    ):
        config = _write_config(bench, local, hub, work)
        sock = work / "gw.sock"
        argv = [STREETWATCH, "edge", "run", "-c", str(config), "--log-level", "WARNING"]
        agent = ManagedProcess(
            "edge", argv, work / "edge.log", lambda: unix_socket_answers(sock), cwd=work
        )
        await asyncio.to_thread(agent.start)
        try:
            await peer.wait_for(lambda h: any(s.online for s in h.states()), within_s=30)

            async def subscribed() -> bool:
                return bool((await request(sock, {"op": "status"}))["local_broker"]["connected"])

            await eventually(subscribed, within_s=30, what="the agent on its local broker")
            devices = Devices(bench, beijing(time.time()))
            async with aiomqtt.Client(local.host, local.port, identifier="bench-devices") as client:
                loop = asyncio.get_running_loop()
                await publish_rounds(devices, client, warmup, loop.time(), wall_ms)
                before = len(peer.log)
                assert local.pid is not None
                cpu0, broker0 = cpu_seconds(agent.pid), cpu_seconds(local.pid)
                probes: list[Probe] = []
                sampler = asyncio.create_task(_probe(agent.pid, 1.0, probes))
                start = loop.time()
                samples, publishes, late = await publish_rounds(
                    devices, client, seconds, start, wall_ms
                )
                elapsed = loop.time() - start
                cpu1, broker1 = cpu_seconds(agent.pid), cpu_seconds(local.pid)
                sampler.cancel()
                peak = memory_kb(agent.pid)["VmHWM"]
            status = await request(sock, {"op": "status"})
        finally:
            await asyncio.to_thread(agent.stop)
    received = peer.log[before:]
    batches = [r.message for r in received if r.channel is Channel.DATA]
    summaries = [s for b in batches for s in b.summaries]
    rss = [p.rss_kb for p in probes]
    steady = rss[len(rss) // 2 :] or rss
    return ProcessResult(
        seconds=elapsed,
        samples=samples,
        publishes=publishes,
        agent_cpu_s=cpu1 - cpu0,
        broker_cpu_s=broker1 - broker0,
        rss_steady_mb=statistics.median(steady) / 1024,
        rss_peak_mb=peak / 1024,
        cores_per_30s=_cores_per_window(probes, 30.0),
        upstream_readings=sum(len(b.readings) for b in batches),
        upstream_summaries=len(summaries),
        summarised_samples=sum(_samples_in(s.stats) for s in summaries),
        upstream_records=len(received),
        counters=status["counters"],
        sensors_seen=sum(
            1 for row in status["sensors"] if status["now_ms"] - (row["last_seen_ms"] or 0) < 5000
        ),
        late_s=late,
    )


def _disk_bytes(directory: Path, name: str) -> int:
    """The SQLite file ``name`` and its write-ahead log."""
    return sum(p.stat().st_size for p in directory.glob(f"{name}*"))


def _samples_in(stats: dict[str, object]) -> int:
    """The samples a summary stands for: the count of its most-counted metric."""
    return max((getattr(s, "count", 0) for s in stats.values()), default=0)


# ------------------------------------------------------------------------------ the pipeline


@dataclass(frozen=True)
class PipelineResult:
    mode: str
    samples: int
    messages: int
    wall_s: float
    cpu_s: float
    events: int
    records: int
    outbox_mb: float
    profile: str


def make_rounds(bench: BenchGateway, seconds: int, start_s: float) -> list[list[tuple[str, bytes]]]:
    """Every device's publishes, one list per simulated second from ``start_s``."""
    devices = Devices(bench, beijing(start_s))
    rounds = []
    for second in range(seconds):
        _, out = devices.step(int((start_s + second) * 1000), 1.0)
        rounds.append([(p.topic, p.payload) for p in out])
    return rounds


async def run_pipeline(
    bench: BenchGateway,
    rounds: list[list[tuple[str, bytes]]],
    start_s: float,
    mode: str,
    work: Path,
    warmup: int,
    profile: int,
) -> PipelineResult:
    """The agent's data path (EdgeAgent._emit, _tick_loop, _summary_loop) without its sockets:
    ``warmup`` rounds unmeasured, the rest measured but the last ``profile``, run under cProfile.
    """
    config = GatewayConfig(**bench.config(("127.0.0.1", 1), ("127.0.0.1", 1)))
    clock = ManualClock(start_s)
    counters = Counters()
    pipeline = Pipeline(config, counters)
    if mode == "alert":
        pipeline.set_alert_mode(True)
    sequencer = Sequencer("be7c4b00")
    name = f"outbox-{mode}.sqlite3"
    quota = int(config.buffer.quota_mb * 1024 * 1024)
    window_s = int(config.reporting.window_s)
    measured = rounds[warmup : len(rounds) - profile]
    async with SqliteOutbox(work / name, quota_bytes=quota) as outbox:
        enqueuer = Enqueuer(
            config.gateway, config.reporting, sequencer, outbox, clock=clock, counters=counters
        )

        async def emit(out: Outputs) -> None:
            for sensor, found in out.findings:
                await enqueuer.event(sensor, found)
            enqueuer.stream(out.readings)
            if enqueuer.batch_due():
                await enqueuer.flush_stream()

        async def play(part: list[list[tuple[str, bytes]]]) -> None:
            for messages in part:
                now = now_ms(clock)
                for topic, payload in messages:
                    await emit(pipeline.on_message(topic, payload, now))
                await clock.advance(1.0)
                await emit(pipeline.tick(now_ms(clock)))
                if int(clock.monotonic()) % window_s == 0:
                    summaries = pipeline.summaries(now_ms(clock))
                    if summaries:
                        await enqueuer.summaries(summaries)

        await play(rounds[:warmup])
        events0, records0 = sequencer.peek(Channel.EVENT), sequencer.peek(Channel.DATA)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        await play(measured)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        events = sequencer.peek(Channel.EVENT) - events0
        records = sequencer.peek(Channel.DATA) - records0
        text = ""
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            await play(rounds[len(rounds) - profile :])
            profiler.disable()
            buffer = io.StringIO()
            stats = pstats.Stats(profiler, stream=buffer)
            stats.sort_stats("tottime").print_stats(10)
            text = buffer.getvalue() + _by_stage(stats)
    return PipelineResult(
        mode=mode,
        samples=bench.sensors * len(measured),
        messages=sum(len(r) for r in measured),
        wall_s=wall,
        cpu_s=cpu,
        events=events,
        records=records,
        outbox_mb=_disk_bytes(work, name) / 1e6,
        profile=text,
    )


STAGES = (
    ("route", "edge/router.py", "route"),
    ("decode", "edge/decoders/base.py", "decode"),
    ("validate", "edge/validate.py", "validate"),
    ("detect (monitor.observe)", "edge/detectors/monitor.py", "observe"),
    ("summarise (Reporter.add)", "edge/reporting.py", "add"),
    ("tick (offline, persistence)", "edge/pipeline.py", "tick"),
    ("enqueue: telemetry batches", "edge/enqueue.py", "_telemetry"),
    ("enqueue: events", "edge/enqueue.py", "event"),
)
"""Pipeline stages and the function each one is, for the profile's time per stage."""


def _by_stage(stats: pstats.Stats) -> str:
    """Cumulative time of each stage's function, as a share of the profiled loop."""
    found: dict[str, float] = {}
    total = 0.0
    for (file, _, func), row in stats.stats.items():  # type: ignore[attr-defined]
        cumulative = row[3]
        if func == "play":
            total = max(total, cumulative)
        for stage, suffix, name in STAGES:
            if func == name and file.endswith(suffix):
                # Reporter.add, not _Window.add or _Stats.add (same file): the biggest wins
                found[stage] = max(found.get(stage, 0.0), cumulative)
    lines = ["time per stage (cumulative, profiled; coroutines count their awaits):"]
    for stage, _, _ in STAGES:
        seconds = found.get(stage, 0.0)
        share = f"{seconds / total:6.1%}" if total else ""
        lines.append(f"  {stage:<30} {seconds:7.2f} s {share}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ printing


def print_process(bench: BenchGateway, r: ProcessResult) -> None:
    rate = r.samples / r.seconds
    print(
        f"process: `streetwatch edge run`, {bench.sensors} sensors at 1 Hz over a real local "
        f"Mosquitto, {r.seconds:.0f} s measured after the warm-up"
    )
    cores = r.agent_cpu_s / r.seconds
    print(f"  published            {r.samples:,} samples ({rate:,.0f}/s), {r.publishes:,} messages")
    print(f"  agent CPU            {r.agent_cpu_s:.1f} CPU-s = {cores:.3f} cores")
    per_10k = r.agent_cpu_s / r.samples * 10_000
    print(f"  agent CPU per 10,000 readings  {per_10k:.2f} CPU-s")
    trend = " ".join(f"{c:.3f}" for c in r.cores_per_30s)
    print(f"  agent cores per 30 s {trend}")
    print(f"  agent RSS            steady {r.rss_steady_mb:.1f} MB, peak {r.rss_peak_mb:.1f} MB")
    broker_cores = r.broker_cpu_s / r.seconds
    print(f"  local Mosquitto CPU  {r.broker_cpu_s:.1f} CPU-s = {broker_cores:.3f} cores")
    print(
        f"  upstream (measured window): {r.upstream_records} records received (and confirmed) "
        "by the peer; "
        f"{r.upstream_readings:,} readings sent one by one, {r.upstream_summaries:,} window "
        f"summaries standing for {r.summarised_samples:,} samples (windows still open at the "
        "end hold the rest)"
    )
    print(
        f"  {r.sensors_seen} of {bench.sensors} sensors seen by the agent in its last 5 s; "
        f"devices at most {r.late_s * 1000:.0f} ms behind their schedule"
    )
    interesting = [c for c in r.counters if c[0] not in ("sent", "enqueued", "confirmed")]
    print(f"  agent counters (whole run, besides sent/enqueued/confirmed): {interesting}")


def print_pipeline(results: list[PipelineResult], warmup: int, profiled: int) -> None:
    r0 = results[0]
    print(
        f"pipeline: {r0.samples:,} samples in {r0.messages:,} messages measured per mode, after "
        f"{warmup} s of warm-up; in process, one coroutine, SQLite outbox (FULL; file MB: after "
        "the whole run)"
    )
    head = f"{'mode':<8} {'readings/s':>11} {'CPU-s/10k':>10} {'CPU/wall':>9}"
    print(f"{head} {'events':>7} {'data records':>13} {'file MB':>10}")
    for r in results:
        print(
            f"{r.mode:<8} {r.samples / r.wall_s:>11,.0f} {r.cpu_s / r.samples * 10_000:>10.3f} "
            f"{r.cpu_s / r.wall_s:>9.2f} {r.events:>7} {r.records:>13,} {r.outbox_mb:>10.1f}"
        )
    for r in results:
        if r.profile:
            print(f"cProfile of the {r.mode} mode ({profiled} s more), top 10 by own time:")
            lines = r.profile.strip().splitlines()
            start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
            print("\n".join(line for line in lines[start:] if line.strip()))


async def bench(args: argparse.Namespace) -> None:
    gateway = bench_gateway(args.sensors, args.seed)
    print(gateway.describe())
    with tempfile.TemporaryDirectory(prefix="bench-edge-") as tmp:
        work = Path(tmp)
        if args.part in ("all", "process"):
            result = await run_process(gateway, args.seconds, args.warmup, work / "process")
            print_process(gateway, result)
        if args.part in ("all", "pipeline"):
            start_s = float(int(time.time()))
            total = args.pipeline_warmup + args.pipeline_seconds + args.profile_seconds
            rounds = make_rounds(gateway, total, start_s)
            results = []
            for mode in ("normal", "alert"):
                profile = args.profile_seconds if args.profile == mode else 0
                rest = rounds if profile else rounds[: len(rounds) - args.profile_seconds]
                results.append(
                    await run_pipeline(
                        gateway, rest, start_s, mode, work, args.pipeline_warmup, profile
                    )
                )
            print_pipeline(results, args.pipeline_warmup, args.profile_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sensors", type=int, default=200, help="sensors (a multiple of 20)")
    parser.add_argument("--seed", type=int, default=1, help="the generated gateway's seed")
    parser.add_argument("--part", choices=["all", "process", "pipeline"], default="all")
    parser.add_argument("--seconds", type=int, default=90, help="process: seconds measured")
    parser.add_argument("--warmup", type=int, default=15, help="process: seconds before that")
    parser.add_argument(
        "--pipeline-warmup",
        type=int,
        default=300,
        help="pipeline: simulated seconds before measuring (the longest rate window)",
    )
    parser.add_argument(
        "--pipeline-seconds", type=int, default=120, help="pipeline: simulated seconds measured"
    )
    parser.add_argument(
        "--profile", choices=["normal", "alert"], default="normal", help="mode to profile"
    )
    parser.add_argument(
        "--profile-seconds", type=int, default=60, help="simulated seconds profiled, after those"
    )
    logging.basicConfig(level=logging.ERROR)  # expected: reconnects, the peer's last confirms
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
