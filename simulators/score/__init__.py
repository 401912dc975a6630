"""Scoring a simulated run: the hub's incidents against the ground truth.

``score`` (``matching``, where the matching rules are written down) takes the truth records of
a run and what was observed of it (``observed``: incidents, pages, acknowledgements) and
returns a ``Score`` (``result``); ``render_table`` (``render``) shows it in the terminal.
"""

from simulators.score.matching import DEFAULT_GRACE_MS, LEAD_MS, score
from simulators.score.observed import ObservedAck, ObservedIncident, ObservedPage, Scope
from simulators.score.render import render_table
from simulators.score.result import (
    Cause,
    HazardOutcome,
    Score,
    Summary,
    Timing,
    UnmatchedIncident,
)

__all__ = [
    "DEFAULT_GRACE_MS",
    "LEAD_MS",
    "Cause",
    "HazardOutcome",
    "ObservedAck",
    "ObservedIncident",
    "ObservedPage",
    "Scope",
    "Score",
    "Summary",
    "Timing",
    "UnmatchedIncident",
    "render_table",
    "score",
]
