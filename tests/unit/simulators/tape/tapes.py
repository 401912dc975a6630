"""Compiled tapes shared by the tape tests: each (scenario, seed) is compiled once per session."""

from __future__ import annotations

from functools import cache
from typing import Any

from simulators.scenarios import Scenario, load_scenario
from simulators.tape.compile import DeviceCue, Tape, compile_tape
from simulators.truth import TruthKind, TruthRecord

SEEDS = range(1, 7)


@cache
def shipped(name: str, seed: int) -> Tape:
    """The tape of a shipped scenario."""
    return compile_tape(load_scenario(name), seed)


def scenario(*timeline: dict[str, Any], **fields: Any) -> Scenario:
    """A small scenario: one street of two communities, 30 minutes, 10 s ticks."""
    data: dict[str, Any] = {
        "name": "test",
        "title": "a test",
        "duration": "30m",
        "city": {"communities": 2, "mix": "mixed"},
        "timeline": list(timeline),
    }
    return Scenario.model_validate(data | fields)


def at(tape: Tape, seconds: float) -> int:
    """Unix ms of ``seconds`` into the scenario."""
    return tape.start_ms + round(seconds * 1000)


def hazards(tape: Tape) -> list[TruthRecord]:
    return [r for r in tape.truth if r.kind is TruthKind.HAZARD]


def cues_of(
    tape: Tape, *, sensor: str | None = None, gateway: str | None = None
) -> list[DeviceCue]:
    return [
        c
        for c in tape.device_cues()
        if (sensor is None or c.sensor == sensor) and (gateway is None or c.gateway == gateway)
    ]
