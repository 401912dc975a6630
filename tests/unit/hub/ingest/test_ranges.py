from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.ingest.ranges import GapSchedule, SeqRanges


def test_appending_in_order_keeps_one_range() -> None:
    r = SeqRanges()
    assert all(r.add(seq) for seq in range(1000))
    assert r.ranges() == ((0, 999),)
    assert len(r) == 1000
    assert r.highest == 999
    assert not r.add(500)


def test_add_range_merges_touching_and_overlapping_neighbours() -> None:
    r = SeqRanges([(0, 2), (10, 12), (20, 22)])
    assert r.add_range(3, 9) == 7  # touches both sides: one range
    assert r.ranges() == ((0, 12), (20, 22))
    assert r.add_range(11, 25) == 10  # 13..19 and 23..25
    assert r.ranges() == ((0, 25),)
    assert len(r) == 26


def test_discard_splits_and_counts() -> None:
    r = SeqRanges([(0, 9)])
    assert r.discard_range(3, 5) == 3
    assert r.ranges() == ((0, 2), (6, 9))
    assert r.discard_range(2, 6) == 2
    assert r.ranges() == ((0, 1), (7, 9))
    assert not r.discard(5)
    assert r.discard(9)
    assert len(r) == 4


def test_membership_and_missing() -> None:
    r = SeqRanges([(2, 3), (7, 7)])
    assert [s for s in range(10) if s in r] == [2, 3, 7]
    assert r.missing(9) == ((0, 1), (4, 6), (8, 9))
    assert r.missing(3) == ((0, 1),)
    assert r.missing(5, start=3) == ((4, 5),)
    assert r.missing(-1) == ()
    assert SeqRanges().missing(4) == ((0, 4),)
    assert r.range_of(3) == (2, 3)
    assert r.range_of(5) is None


def test_bad_ranges_are_refused() -> None:
    with pytest.raises(ValueError, match="first <= last"):
        SeqRanges().add_range(5, 4)
    with pytest.raises(ValueError, match="0 <= first"):
        SeqRanges().add(-1)


def test_huge_ranges_stay_compact() -> None:
    r = SeqRanges([(0, 2**62)])
    r.discard(2**40)
    assert r.ranges() == ((0, 2**40 - 1), (2**40 + 1, 2**62))
    assert r.cardinality == 2**62


ops = st.lists(
    st.tuples(st.sampled_from(["add", "discard"]), st.integers(0, 60), st.integers(0, 8)),
    max_size=60,
)


@given(ops)
def test_behaves_like_a_set(operations: list[tuple[str, int, int]]) -> None:
    r, model = SeqRanges(), set[int]()
    for op, first, width in operations:
        span = set(range(first, first + width + 1))
        if op == "add":
            assert r.add_range(first, first + width) == len(span - model)
            model |= span
        else:
            assert r.discard_range(first, first + width) == len(span & model)
            model -= span
        spans = r.ranges()
        assert {s for lo, hi in spans for s in range(lo, hi + 1)} == model
        assert all(hi + 1 < lo for (_, hi), (lo, _) in pairwise(spans))
        assert len(r) == len(model)
        assert r.highest == (max(model) if model else None)
        assert all((s in r) == (s in model) for s in range(75))
        missing = {s for lo, hi in r.missing(70) for s in range(lo, hi + 1)}
        assert missing == set(range(71)) - model


def test_gap_schedule_backs_off_and_splits_keep_their_timer() -> None:
    gaps = GapSchedule(first_wait_ms=10, max_wait_ms=40)
    assert gaps.open(5, 9, due_ms=10) == 5
    assert gaps.take_due(9) == []
    assert gaps.take_due(10) == [(5, 9)]
    assert gaps.close(7, 7) == 1  # split: both halves keep the timer
    assert gaps.take_due(19) == []
    assert gaps.take_due(20) == [(5, 6), (8, 9)]  # waited 10
    assert gaps.take_due(39) == []
    assert gaps.take_due(40) == [(5, 6), (8, 9)]  # waited 20
    assert gaps.take_due(80) == [(5, 6), (8, 9)]  # waited 40
    assert gaps.take_due(119) == []
    assert gaps.take_due(120) == [(5, 6), (8, 9)]  # 40 is the most
    assert len(gaps) == 4


def test_gap_schedule_arms_lazy_timers_and_merges_to_the_sooner() -> None:
    gaps = GapSchedule(first_wait_ms=10, max_wait_ms=40)
    gaps.open(0, 1, due_ms=None)
    assert gaps.take_due(1000) == []  # armed now, due at 1010
    gaps.open(2, 3, due_ms=5000)  # merges with 0..1, which is sooner
    assert gaps.ranges() == ((0, 3),)
    assert gaps.take_due(1010) == [(0, 3)]
