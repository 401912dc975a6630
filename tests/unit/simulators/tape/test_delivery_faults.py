"""Delivery faults on the tape: a reordered stream keeps its time slots, a duplicate repeats."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise
from typing import Any

from simulators.devices import Action
from simulators.scenarios.model import Place
from simulators.tape.compile import Tape, compile_tape
from simulators.tape.targets import Targets
from streetwatch.kinds import KindName
from unit.simulators.tape.tapes import at, cues_of, scenario, shipped

SEED = 2
START, END = 5 * 60, 25 * 60


def _with_fault(fault: str, **params: Any) -> tuple[Tape, Tape, str]:
    """The plain tape, the tape with ``fault`` on the first water gauge from 5 to 25 min, and
    that gauge."""
    step = {"at": START, "for": END - START, "do": "fault", "kind": "water_level",
            "fault": fault, "params": params}  # fmt: skip
    plain, faulted = compile_tape(scenario(), SEED), compile_tape(scenario(step), SEED)
    gauge = Targets(plain.city).sensor(Place(), KindName.WATER_LEVEL, 0).id
    return plain, faulted, gauge


def test_reorder_swaps_the_messages_not_their_times() -> None:
    plain, faulted, gauge = _with_fault("reorder", window=3)
    before, after = cues_of(plain, sensor=gauge), cues_of(faulted, sensor=gauge)
    assert [c.t_ms for c in after] == [c.t_ms for c in before]
    assert Counter(c.payload for c in after) == Counter(c.payload for c in before)
    assert [c.payload for c in after] != [c.payload for c in before]
    start, end = at(plain, START), at(plain, END)
    for old, new in zip(before, after, strict=True):
        if not start <= old.t_ms < end:
            assert new == old
    order = [c.payload for c in before]
    assert all(abs(order.index(c.payload) - n) <= 2 for n, c in enumerate(after))
    times = [c.t_ms for c in faulted.cues]
    assert times == sorted(times)
    assert any(f.action is Action.REORDERED and f.sensor == gauge for f in faulted.faults)


def test_duplicate_delivers_the_same_payload_twice_at_once() -> None:
    plain, faulted, gauge = _with_fault("duplicate")
    start, end = at(plain, START), at(plain, END)
    before = cues_of(plain, sensor=gauge)
    twice = [c for c in before if start <= c.t_ms < end]
    assert len(twice) >= 10
    expected = [copy for c in before for copy in ([c, c] if c in twice else [c])]
    assert cues_of(faulted, sensor=gauge) == expected


def test_quiet_day_keeps_every_sensors_time_slots_sorted() -> None:
    tape = shipped("quiet-day", 1)
    times = [c.t_ms for c in tape.cues]
    assert times == sorted(times)
    swapped = {f.sensor for f in tape.faults if f.action is Action.REORDERED}
    (reordered,) = [r for r in tape.truth if r.what == "reordered_delivery"]
    assert swapped == set(reordered.sensors)
    (duplicated,) = [r for r in tape.truth if r.what == "duplicate_delivery"]
    cues = cues_of(tape, sensor=duplicated.sensors[0])
    pairs = [(a, b) for a, b in pairwise(cues) if a.payload == b.payload]
    assert pairs
    assert all(a.t_ms == b.t_ms for a, b in pairs)
    assert all(duplicated.start_ms <= a.t_ms < duplicated.end_ms for a, _ in pairs)
