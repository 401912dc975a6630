"""Detection quality: every shipped scenario played against the real StreetWatch and scored.

Not a test. Each (scenario, seed) is one ``streetwatch sim run`` (a child process with its own
private brokers, hub and edge agents on 127.0.0.1, see docs/simulators.md); ``--jobs`` of them
run at once. The bench reads what each run wrote (``score.json`` as ``simulators.score.Score``,
``run.json``) and sums it up:

* recall: true hazards detected / true hazards in the truth;
* false incidents: incidents nothing in the truth explains (the scorer's ``false``), and on
  the quiet day also per 10,000 sensor-hours (the city's sensors × the scenario's hours);
  false alarms (a nuisance or a fault opened as a hazard) and faults reported are counted
  apart, as the scorer does;
* time to detect: from the hazard's true start to the first matching incident (median, max);
* level accuracy: detected hazards whose highest incident level equals the deserved level
  (exact / under / over).

Every missed hazard and every false incident is listed with its run directory, which is kept.
A run whose playback fell behind by more than the scenario's tick (``lag_s`` in run.json) is
flagged: it is no longer quite the scenario; lower ``--speed`` or ``--jobs``.

    .venv/bin/python bench/bench_detection.py                        # seed 1, 120×, 3 at once
    .venv/bin/python bench/bench_detection.py --seeds 1 2 3
    .venv/bin/python bench/bench_detection.py --scenarios kitchen-fire quiet-day --speed 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from simulators.scenarios import Scenario, builtin_scenarios, load_scenario
from simulators.score import Score
from simulators.tape.compile import build_city

STREETWATCH = str(Path(sys.executable).with_name("streetwatch"))
QUIET = "quiet-day"


@dataclass(frozen=True)
class Run:
    scenario: str
    seed: int
    out: Path
    score: Score | None
    lag_s: float
    tick_s: float
    real_s: float
    sensors: int
    hours: float
    failure: str = ""


async def one_run(
    name: str, scenario: Scenario, seed: int, speed: float, root: Path, jobs: asyncio.Semaphore
) -> Run:
    out = root / f"{name}-{seed}"
    sensors = sum(1 for _ in build_city(scenario, seed).sensors())
    hours = scenario.duration / 3600
    async with jobs:
        began = time.perf_counter()
        with (root / f"{name}-{seed}.log").open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                STREETWATCH, "sim", "run", "--scenario", name, "--speed", f"{speed:g}",
                "--seed", str(seed), "--out", str(out),
                stdout=log, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
            code = await process.wait()
        real = time.perf_counter() - began
    print(f"  {name} seed {seed}: {real:.0f} s, exit {code}", file=sys.stderr, flush=True)
    if code != 0 or not (out / "score.json").is_file():
        failure = f"exit {code}; see {root / f'{name}-{seed}.log'}"
        return Run(name, seed, out, None, 0.0, scenario.tick, real, sensors, hours, failure)
    score = Score.model_validate_json((out / "score.json").read_text("utf-8"))
    played = json.loads((out / "run.json").read_text("utf-8"))
    return Run(name, seed, out, score, played["lag_s"], scenario.tick, real, sensors, hours)


def _median_max(values: list[float]) -> tuple[str, str]:
    if not values:
        return "—", "—"
    return f"{statistics.median(values):.0f}", f"{max(values):.0f}"


@dataclass
class Totals:
    hazards: int = 0
    detected: int = 0
    false_incidents: int = 0
    false_alarms: int = 0
    faults_reported: int = 0
    exact: int = 0
    under: int = 0
    over: int = 0

    def add(self, score: Score) -> None:
        s = score.summary
        self.hazards += s.hazards
        self.detected += s.detected
        self.false_incidents += s.false_incidents
        self.false_alarms += s.false_alarms
        self.faults_reported += s.faults_reported
        self.exact += s.level_exact
        self.under += s.level_under
        self.over += s.level_over


def _row(r: Run, score: Score) -> str:
    s = score.summary
    median, most = _median_max([h.detect_s for h in score.hazards if h.detect_s is not None])
    levels = f"{s.level_exact}/{s.level_under}/{s.level_over}"
    behind = " BEHIND" if r.lag_s > r.tick_s else ""
    return (
        f"{r.scenario:<24} {r.seed:>4} {s.hazards:>7} {s.detected:>8} {s.false_incidents:>9} "
        f"{s.false_alarms:>12} {s.faults_reported:>10} {median + ' / ' + most:>16} "
        f"{levels:>12} {r.lag_s:>6.1f}{behind}"
    )


def _problems(r: Run, score: Score) -> list[str]:
    where = f"in {r.scenario} seed {r.seed}: {r.out}"
    out = []
    for h in score.hazards:
        if h.detect_s is None:
            t = h.truth
            out.append(f"MISSED {t.what} ({t.hazard}, deserved {t.level}) at {t.place} {where}")
    for u in score.unmatched:
        if u.cause == "false":
            out.append(f"FALSE INCIDENT {u.incident} {u.hazard} {u.level} at {u.place} {where}")
    return out


def report(runs: list[Run], speed: float, jobs: int, wall_s: float) -> None:
    seeds = ", ".join(str(s) for s in sorted({r.seed for r in runs}))
    print(
        f"{len(runs)} runs (seeds {seeds}) at {speed:g}×, {jobs} at once, in {wall_s:.0f} s; "
        f"run directories in {runs[0].out.parent}"
    )
    print(
        f"{'scenario':<24} {'seed':>4} {'hazards':>7} {'detected':>8} {'false inc':>9} "
        f"{'false alarms':>12} {'faults rep':>10} {'detect med/max s':>16} "
        f"{'levels =/</>':>12} {'lag s':>6}"
    )
    totals, detect, problems = Totals(), [], []
    for r in sorted(runs, key=lambda r: (r.scenario, r.seed)):
        if r.score is None:
            print(f"{r.scenario:<24} {r.seed:>4}  FAILED: {r.failure}")
            problems.append(f"FAILED {r.scenario} seed {r.seed}: {r.failure}")
            continue
        print(_row(r, r.score))
        totals.add(r.score)
        detect += [h.detect_s for h in r.score.hazards if h.detect_s is not None]
        problems += _problems(r, r.score)
    recall = f"{totals.detected / totals.hazards:.0%}" if totals.hazards else "—"
    median, most = _median_max(detect)
    print(
        f"recall {totals.detected}/{totals.hazards} = {recall}; false incidents "
        f"{totals.false_incidents}; false alarms (a nuisance or fault opened as a hazard) "
        f"{totals.false_alarms}; faults reported {totals.faults_reported}"
    )
    print(f"time to detect, all detected hazards: median {median} s, max {most} s")
    levelled = totals.exact + totals.under + totals.over
    if levelled:
        share = totals.exact / levelled
        print(
            f"level accuracy: {totals.exact}/{levelled} exact ({share:.0%}), "
            f"{totals.under} under, {totals.over} over"
        )
    quiet = [r for r in runs if r.scenario == QUIET and r.score is not None]
    if quiet:
        false = sum(r.score.summary.false_incidents for r in quiet if r.score is not None)
        sensor_hours = sum(r.sensors * r.hours for r in quiet)
        print(
            f"quiet day: {false} false incident(s) in {sensor_hours:,.0f} sensor-hours "
            f"({len(quiet)} run(s) of {quiet[0].sensors} sensors × {quiet[0].hours:g} h) = "
            f"{false / sensor_hours * 10_000:.1f} per 10,000 sensor-hours"
        )
    late = sum(1 for r in runs if r.score is not None and r.lag_s > r.tick_s)
    if late:
        print(f"{late} run(s) fell behind by more than a tick (BEHIND): lower --speed or --jobs")
    for line in problems:
        print(line)


async def bench(args: argparse.Namespace) -> None:
    names = args.scenarios or list(builtin_scenarios())
    scenarios = {name: load_scenario(name) for name in names}
    root = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench-detection-"))
    root.mkdir(parents=True, exist_ok=True)
    jobs = asyncio.Semaphore(args.jobs)
    # Longest first, so that the last runs to finish are short ones.
    order = sorted(
        ((name, seed) for name in names for seed in args.seeds),
        key=lambda x: -scenarios[x[0]].duration,
    )
    began = time.perf_counter()
    runs = await asyncio.gather(
        *(one_run(n, scenarios[n], seed, args.speed, root, jobs) for n, seed in order)
    )
    report(list(runs), args.speed, args.jobs, time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", nargs="*", help="names (default: every shipped one)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1], help="seeds to run")
    parser.add_argument("--speed", type=float, default=120, help="simulated s per real s")
    parser.add_argument("--jobs", type=int, default=3, help="runs at once")
    parser.add_argument("--out", help="where to keep the runs (default: a new /tmp directory)")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
