"""Hub ingest against the hand-written bridges, in one run of the baselines harness.

Not a test. Runs ``../shared/baselines`` (copy it somewhere writable first: its servers, load
generator, step logic, counting and CPU sampling) with StreetWatch's hub added as systems:

* ``streetwatch_influx1`` / ``streetwatch_vm``: one hub process into InfluxDB 1.6 / VictoriaMetrics;
* ``streetwatch_influx1_x2`` / ``_x3``: two / three hub processes sharded by street (scale);
* ``floor_influx1``: no real bridge (``floor_bridge.py``: Mosquitto's C subscriber and precomputed
  lines): what the load generator, the broker and InfluxDB take at a rate by themselves.

The load generator sends StreetWatch telemetry batches (``sw_payload.py``: 20 gateways x 50
water-level gauges, 50 readings per message, QoS 1) where the DIY bridges get the harness's own
batched payload of the same size and rate. A hub step counts the readings in the database it
wrote (InfluxDB: a database per step; VictoriaMetrics: a district per step). Everything else,
pass/fail included (loss <= 0.1 %, lag <= 2 s), is the harness's ``run_step``.

Run with the harness's Python (it needs its venv), from the repository root:

    cp -r ../shared/baselines /tmp/baselines && /tmp/baselines/setup.sh
    /tmp/baselines/.venv/bin/python bench/ingest/bench_ingest.py --baselines /tmp/baselines \\
        --sweep diy_influx1,streetwatch_influx1 --start 32000
    /tmp/baselines/.venv/bin/python bench/ingest/bench_ingest.py --baselines /tmp/baselines \\
        --steps streetwatch_influx1:250000,diy_influx1:64000 --repeat 3
    /tmp/baselines/.venv/bin/python bench/ingest/bench_ingest.py --baselines /tmp/baselines \\
        --latency diy_influx1,streetwatch_influx1 --rate 1000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
HUB_PYTHON = REPO / ".venv" / "bin" / "python"
PROFILE_DIR = os.environ.get("SW_BENCH_PROFILE_DIR", "")  # cProfile per hub process
FAST_DIY_PAYLOAD = True  # --harness-payload turns it off


def load_harness(path: Path) -> Any:
    sys.path.insert(0, str(path))
    import bench_e2e  # type: ignore[import-not-found]

    return bench_e2e


def streetwatch_bridge(e2e: Any) -> type:
    """The harness's Bridge, taught the ``streetwatch_*`` systems."""
    from benchlib import servers  # type: ignore[import-not-found]
    from benchlib.tsdb import Influx1, VictoriaMetrics, _req  # type: ignore[import-not-found]

    base = e2e.Bridge

    class Bridge(base):  # type: ignore[misc, valid-type]
        def __init__(self, system: str, meas: str, qos: int, latency_out: Any, stats_out: str):
            if not system.startswith(("streetwatch", "floor")):
                super().__init__(system, meas, qos, latency_out, stats_out)
                return
            self.system, self.meas, self.proc, self.qos = system, meas, None, qos
            self.stats_out, self.latency_out = stats_out, latency_out
            if system == "floor_influx1":
                self.floor(meas)
                return
            tsdb = "vm" if "_vm" in system else "influx1"
            shards = int(system.rsplit("_x", 1)[1]) if "_x" in system else 1
            district = "d" + meas.rsplit("_", 1)[1] + meas.split("_")[-2][-1]
            os.environ["SW_BENCH_DISTRICT"] = district  # the load generator inherits it
            if tsdb == "vm":
                self.db = VictoriaMetrics()
                match = f'{{__name__="water_level_depth",district="{district}"}}'
                self.count = lambda: _vm_count(_req, servers.PORTS["vm"], match)
            else:
                self.db = Influx1()
                self.count = lambda: self.db.count(meas, "water_level", field="depth")
            self.argv = [
                str(HUB_PYTHON), str(HERE / "hub_bridge.py"),
                "--mqtt-port", str(servers.PORTS["mqtt"]), "--tsdb", tsdb,
                "--influx-port", str(servers.PORTS["influx"]),
                "--vm-port", str(servers.PORTS["vm"]),
                "--database", meas, "--district", district, "--shards", str(shards),
                "--stats-out", stats_out,
            ]  # fmt: skip
            if latency_out:
                self.argv += ["--latency-out", latency_out]
            if PROFILE_DIR:
                self.argv += ["--profile", f"{PROFILE_DIR}/{meas}.prof"]

        def floor(self, meas: str) -> None:
            """No bridge to speak of (``floor_bridge.py``): what the rest of the pipeline takes."""
            os.environ["SW_BENCH_DISTRICT"] = "floor"
            self.db = Influx1()
            self.count = lambda: self.db.count(meas, "water_level", field="depth")
            self.argv = [
                str(HUB_PYTHON), str(HERE / "floor_bridge.py"),
                "--mqtt-port", str(servers.PORTS["mqtt"]),
                "--influx-port", str(servers.PORTS["influx"]), "--database", meas,
            ]  # fmt: skip

    return Bridge


def _vm_count(req: Any, port: int, match: str) -> int:
    req(port, "GET", "/internal/force_flush")
    status, body = req(port, "GET", "/api/v1/export?" + urllib.parse.urlencode({"match[]": match}))
    if status != 200:
        raise RuntimeError(f"vm export {status}: {body[:200]!r}")
    return sum(len(json.loads(line)["values"]) for line in body.splitlines() if line)


SHIPPED_CONF = REPO / "deploy" / "mosquitto" / "streetwatch-hub.conf"
QUEUEING = ("max_queued_messages", "max_queued_bytes", "max_inflight_messages", "set_tcp_nodelay")


def shipped_queueing() -> str:
    """The queueing lines of the broker config we ship, for the harness's broker."""
    lines = [ln for ln in SHIPPED_CONF.read_text().splitlines() if ln.startswith(QUEUEING)]
    assert len(lines) == len(QUEUEING), f"{SHIPPED_CONF} changed: {lines}"
    return "\n".join(lines) + "\n"


def shape_args(system: str) -> list[str]:
    if system.startswith(("streetwatch", "floor")):  # the floor gets the hub's messages
        return ["--payload", "sw_payload"]
    return ["--payload", "diy_payload"] if FAST_DIY_PAYLOAD else []


def with_payload(e2e: Any, system: str) -> None:
    """The hub gets StreetWatch messages, the DIY bridges the harness's own."""
    e2e.LOADGEN_EXTRA[:] = shape_args(system)


def row(r: dict[str, Any]) -> str:
    m = r["mon"]["procs"]
    lat = r.get("latency") or {}
    per10k = m["bridge"]["cpu_s"] / max(r["stored"], 1) * 10_000 if "cpu_s" in m["bridge"] else 0
    return (
        f"{r['system']:24s} {r['rate']:>9,.0f} {r['pub_rate']:>9,.0f} {r['stored']:>9,d}/"
        f"{r['published']:<9,d} {r['loss_frac'] * 100:6.2f}% {r['lag_s']:5.1f}s "
        f"{r['e2e_rate']:>9,.0f} {m['bridge']['cores']:5.2f} {per10k:6.2f} "
        f"{m['bridge']['rss_peak_mb']:6.0f} {m['mosquitto']['cores']:5.2f} "
        f"{m['tsdb']['cores']:5.2f} "
        f"{m['loadgen']['cores']:5.2f} {r['mon']['machine_busy_cores']:5.2f} "
        f"{'OK' if r['ok'] else 'BEHIND'}"
        + (
            f"  p50 {lat['p50_ms']:.0f} ms p99 {lat['p99_ms']:.0f} ms max {lat['max_ms']:.0f}"
            if lat
            else ""
        )
    )


HEADER = (
    f"{'system':24s} {'offered':>9s} {'pub/s':>9s} {'stored/published':>19s} {'loss':>7s} "
    f"{'lag':>6s} {'e2e/s':>9s} {'cores':>5s} {'cpu/10k':>6s} {'RSS MB':>6s} {'brk':>5s} "
    f"{'tsdb':>5s} {'lgen':>5s} {'all':>5s}"
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--baselines", type=Path, required=True, help="a writable copy of ../shared/baselines"
    )
    ap.add_argument("--sweep", default="", help="systems to sweep (double the rate until behind)")
    ap.add_argument("--start", type=float, default=16000, help="first rate of a sweep")
    ap.add_argument("--steps", default="", help="system:rate,... single steps")
    ap.add_argument("--latency", default="", help="systems for publish-to-stored latency at --rate")
    ap.add_argument("--rate", type=float, default=1000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--confirm", type=int, default=0, help="extra repeats of a sweep's knee")
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument(
        "--harness-payload",
        action="store_true",
        help="DIY bridges get the harness's own (slower to generate) payload, as in RESULTS.md",
    )
    ap.add_argument(
        "--shipped-broker",
        action="store_true",
        help="the broker queues as deploy/mosquitto/streetwatch-hub.conf sizes it (1,000,000 "
        "messages per client) instead of Mosquitto's stock 1,000: overload then shows as lag",
    )
    ap.add_argument("--out", type=Path, default=None, help="write all step results as JSON")
    a = ap.parse_args()
    global FAST_DIY_PAYLOAD
    FAST_DIY_PAYLOAD = not a.harness_payload
    os.environ["PYTHONPATH"] = f"{HERE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    e2e = load_harness(a.baselines.resolve())
    from benchlib import servers
    from benchlib.tsdb import Influx1

    e2e.Bridge = streetwatch_bridge(e2e)
    results: list[dict[str, Any]] = []
    summaries: list[dict[str, Any]] = []
    mq, infl, vm = (
        servers.start_mosquitto(shipped_queueing() if a.shipped_broker else ""),
        servers.start_influxd(),
        servers.start_victoriametrics(),
    )
    Influx1().create_db("bench")
    pd = {"mosquitto": mq.pid, "influxd": infl.pid, "victoria-metrics": vm.pid}
    started = time.time()
    try:
        for system in filter(None, a.sweep.split(",")):
            with_payload(e2e, system)
            s = e2e.sweep(
                system, "batched", a.start, a.duration, 1, pd, max_rate=4e6, confirm=a.confirm
            )
            results += s.pop("steps")
            summaries.append(s)
        for spec in filter(None, a.steps.split(",")):
            system, rate = spec.split(":")
            with_payload(e2e, system)
            for k in range(a.repeat):
                results.append(
                    e2e.run_step(system, "batched", float(rate), k, a.duration, 1, pd, tag="step")
                )
        for system in filter(None, a.latency.split(",")):
            with_payload(e2e, system)
            for k in range(a.repeat):
                results.append(
                    e2e.run_step(
                        system, "batched", a.rate, k, a.duration, 1, pd, latency=True, tag="lat"
                    )
                )
    finally:
        servers.stop_all()
    print(
        f"\n## ingest, batched (50 readings/message), QoS 1, {a.duration:.0f} s steps, "
        f"{time.strftime('%Y-%m-%d %H:%M')}, {time.time() - started:.0f} s"
    )
    print(HEADER)
    for r in results:
        print(row(r))
    for s in summaries:
        best = s.get("at_max_ok") or {}
        print(
            f"sweep {s['system']}: max OK {s['max_ok_rate']} ({s['ok_runs_at_max']}), "
            f"first behind {s['first_behind_rate']}, e2e {best.get('e2e_rate') or 0:,.0f}/s"
        )
    lats = [r["latency"] for r in results if r.get("latency")]
    if lats:
        by: dict[str, list[dict[str, Any]]] = {}
        for r in results:
            if r.get("latency"):
                by.setdefault(r["system"], []).append(r["latency"])
        for system, xs in by.items():
            p50 = statistics.median(x["p50_ms"] for x in xs)
            p99 = statistics.median(x["p99_ms"] for x in xs)
            print(
                f"latency {system}: p50 {p50:.0f} ms, p99 {p99:.0f} ms (median of {len(xs)} runs)"
            )
    if a.out:
        a.out.write_text(
            json.dumps({"results": results, "sweeps": summaries}, default=str, indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
