"""What scoring says: per hazard, per unmatched incident, and in sum."""

from __future__ import annotations

from typing import Literal

from simulators.score.observed import Frozen
from simulators.truth import TruthRecord
from streetwatch.anomalies import Hazard
from streetwatch.levels import Level

Cause = Literal["false", "false_alarm", "fault_reported"]


class HazardOutcome(Frozen):
    truth: TruthRecord
    incidents: tuple[str, ...]
    detect_s: float | None  # None: missed
    page_s: float | None
    ack_s: float | None
    reached: Level
    agreement: Literal["exact", "under", "over"] | None
    duplicates: int


class UnmatchedIncident(Frozen):
    incident: str
    hazard: Hazard
    level: Level
    place: str
    cause: Cause
    explained_by: tuple[str, ...]  # the ``what`` of the faults and nuisances behind it


class Timing(Frozen):
    count: int
    median_s: float | None
    max_s: float | None


class Summary(Frozen):
    hazards: int
    detected: int
    missed: int
    false_incidents: int
    false_alarms: int
    faults_reported: int
    duplicates: int
    level_exact: int
    level_under: int
    level_over: int
    unanswered: int  # detected hazards nobody acknowledged
    detect: Timing
    page: Timing
    ack: Timing


class Score(Frozen):
    summary: Summary
    hazards: tuple[HazardOutcome, ...]
    unmatched: tuple[UnmatchedIncident, ...]

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)
