"""Delivery faults: dropouts drop, duplicates duplicate, reorder swaps within its window."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st
from unit.simulators.devices.readback import NAMES

from simulators.devices import (
    Action,
    ClockSkew,
    DeviceSpec,
    Drift,
    Dropout,
    Duplicate,
    FaultRecord,
    LowBattery,
    Reorder,
    Sample,
    SelfTest,
    Spikes,
    Stuck,
    Tamper,
    Transmitter,
    deliver,
    inject,
)
from simulators.devices.faults import Fault
from streetwatch.kinds import Ecosystem, KindName


def stream(n: int, sensors: tuple[str, ...] = ("a",)) -> list[Sample]:
    return [
        Sample(s, KindName.GAS, i * 1000, {"lel": float(i % 100)})
        for i in range(n)
        for s in sensors
    ]


def test_dropout_drops_what_it_covers() -> None:
    log: list[FaultRecord] = []
    out = list(Dropout(start_ms=3000, end_ms=6000, sensor="a").apply(stream(10, ("a", "b")), log))
    assert [(s.sensor, s.t_ms // 1000) for s in out if s.sensor == "a"] == [
        ("a", i) for i in (0, 1, 2, 6, 7, 8, 9)
    ]
    assert sum(s.sensor == "b" for s in out) == 10
    assert [(r.action, r.t_ms) for r in log] == [(Action.DROPPED, t) for t in (3000, 4000, 5000)]


def test_partial_dropout_is_seeded() -> None:
    items = stream(200)
    first = list(Dropout(probability=0.3, seed=1).apply(items, []))
    assert 100 < len(first) < 180
    assert list(Dropout(probability=0.3, seed=1).apply(items, [])) == first
    assert list(Dropout(probability=0.3, seed=2).apply(items, [])) != first


def test_duplicates_follow_the_original() -> None:
    log: list[FaultRecord] = []
    out = list(Duplicate(copies=2, start_ms=1000, end_ms=2000).apply(stream(3), log))
    assert [s.t_ms for s in out] == [0, 1000, 1000, 1000, 2000]
    assert [(r.action, r.value) for r in log] == [(Action.DUPLICATED, 2)]


def test_a_duplicated_uplink_keeps_its_frame_counter() -> None:
    device = DeviceSpec(Ecosystem.CHIRPSTACK, NAMES[Ecosystem.CHIRPSTACK], KindName.GAS)
    radio = Transmitter(device)
    sent = [m for s in stream(3) for m in radio.send(s)]
    out = list(deliver(sent, [Duplicate(start_ms=1000, end_ms=2000)], []))
    assert [m.publish for m in out] == [
        sent[0].publish,
        sent[1].publish,
        sent[1].publish,
        sent[2].publish,
    ]


@given(
    n=st.integers(0, 40),
    window=st.integers(2, 6),
    seed=st.integers(0, 2**32),
    start=st.integers(0, 40),
)
def test_reorder_swaps_only_within_its_window(n: int, window: int, seed: int, start: int) -> None:
    items = stream(n)
    log: list[FaultRecord] = []
    out = list(Reorder(window=window, start_ms=start * 1000, seed=seed).apply(items, log))
    assert Counter(s.t_ms for s in out) == Counter(s.t_ms for s in items)
    for position, sample in enumerate(out):
        original = items.index(sample)
        assert abs(position - original) < window
        if original < start:
            assert position == original
    covered = n - min(start, n)
    assert (out != items) is (covered >= 2)
    assert {r.t_ms for r in log} == {s.t_ms for p, s in enumerate(out) if items[p] != s}
    assert out == list(Reorder(window=window, start_ms=start * 1000, seed=seed).apply(items, []))


def test_reorder_lets_other_sensors_pass() -> None:
    items = stream(4, ("a", "b"))
    out = list(Reorder(window=4, sensor="a").apply(items, []))
    assert [s for s in out if s.sensor == "b"] == [s for s in items if s.sensor == "b"]
    assert [s for s in out if s.sensor == "a"] != [s for s in items if s.sensor == "a"]


def test_reorder_needs_a_window() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        Reorder(window=1)


ALL: list[Fault] = [
    Drift("lel", 5.0, start_ms=10_000),
    Stuck("lel", start_ms=20_000, end_ms=30_000),
    Spikes("lel", 30.0, probability=0.2, seed=5),
    LowBattery(start_ms=40_000),
    Tamper(start_ms=50_000, end_ms=55_000),
    SelfTest(start_ms=60_000, end_ms=62_000),
    ClockSkew(seconds=30, sensor="b"),
    Dropout(probability=0.1, seed=6),
    Duplicate(probability=0.1, seed=7),
    Reorder(window=3, probability=0.5, seed=8),
]


def test_the_same_seeds_give_the_same_stream_and_log() -> None:
    runs = []
    for _ in range(2):
        log: list[FaultRecord] = []
        runs.append((list(inject(stream(100, ("a", "b")), ALL, log)), log))
    assert runs[0] == runs[1]
    assert {r.action for r in runs[0][1]} == set(Action)
