"""One whole scenario run, as ``streetwatch sim run`` does it: compile the tape, play it against a
real StreetWatch, score the hub's incidents against the ground truth, and keep everything.

The output directory holds ``truth.jsonl`` (the ground truth), ``incidents.json`` (the hub's
incidents), ``pages.json`` (every page and answer the simulated responders saw), ``score.json``,
``run.json`` (seed, speed, tape digest, how the playback went) and the components' own files
(brokers' logs, the hub's state, the gateways' outboxes), so a run can be examined afterwards.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from simulators.run.runner import Observed, PlayStats, ScenarioRun
from simulators.scenarios.model import Scenario
from simulators.score import ObservedAck, ObservedIncident, ObservedPage, Score, score
from simulators.tape.compile import Tape, compile_tape
from simulators.truth import TruthLog


@dataclass(frozen=True, slots=True)
class RunResult:
    tape: Tape
    stats: PlayStats
    score: Score
    out: Path


async def run_scenario(scenario: Scenario, seed: int, speed: float, out: Path) -> RunResult:
    tape = compile_tape(scenario, seed)
    begin(out, tape)
    async with ScenarioRun(tape, out / "work", speed=speed) as run:
        stats = await run.play()
        observed = await run.observed()
    return finish(out, tape, speed, stats, observed)


def begin(out: Path, tape: Tape) -> None:
    """Before the run: ``out`` from nothing (a rerun into it too), its log, the truth."""
    shutil.rmtree(out / "work", ignore_errors=True)  # the previous run's brokers, hub, gateways
    out.mkdir(parents=True, exist_ok=True)
    _log_to(out / "run.log")
    TruthLog(out / "truth.jsonl").write(tape.truth)


def finish(out: Path, tape: Tape, speed: float, stats: PlayStats, observed: Observed) -> RunResult:
    """After the run: score what was observed against the truth and write the files."""
    incidents, pages, acks = observed
    result = score(tape.truth, incidents, pages, acks)
    _save(out, tape, speed, stats, result, incidents, pages, acks)
    return RunResult(tape, stats, result, out)


def _save(
    out: Path,
    tape: Tape,
    speed: float,
    stats: PlayStats,
    result: Score,
    incidents: list[ObservedIncident],
    pages: list[ObservedPage],
    acks: list[ObservedAck],
) -> None:
    def write(name: str, data: object) -> None:
        (out / name).write_text(json.dumps(data, ensure_ascii=False, indent=1), "utf-8")

    write("incidents.json", [i.model_dump(mode="json") for i in incidents])
    write("pages.json", {"pages": [p.model_dump(mode="json") for p in pages],
                         "acks": [a.model_dump(mode="json") for a in acks]})  # fmt: skip
    (out / "score.json").write_text(result.to_json(), "utf-8")
    scenario = tape.scenario
    write("run.json", {"scenario": scenario.name, "seed": tape.seed, "speed": speed,
                       "digest": tape.digest(),
                       "cues": len(tape.cues), **asdict(stats)})  # fmt: skip


def _log_to(path: Path) -> None:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(min(root.level or logging.INFO, logging.INFO))
