"""One suite, every outbox: each test runs on MemoryOutbox and on SqliteOutbox.

The clock is the ``now_ms`` argument; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import edge.outbox
from edge.outbox import (
    AddOutcome,
    DropReason,
    EvictedRange,
    Lane,
    MemoryOutbox,
    NewRecord,
    Outbox,
    OutboxRecord,
    Pressure,
    SqliteOutbox,
)

BOOT = "b00700a1"
OTHER_BOOT = "b00700b2"
BIG_QUOTA = 10_000_000
RESEND = 30_000

MakeBox = Callable[..., Outbox]


def _memory(_: Path, quota_bytes: int) -> Outbox:
    return MemoryOutbox(quota_bytes=quota_bytes)


def _sqlite(tmp: Path, quota_bytes: int) -> Outbox:
    return SqliteOutbox(tmp / "outbox.db", quota_bytes=quota_bytes)


@pytest.fixture(params=[_memory, _sqlite], ids=["memory", "sqlite"])
def make_box(request: pytest.FixtureRequest, tmp_path: Path) -> MakeBox:
    """An unopened outbox of the implementation under test: ``make_box(quota_bytes=...)``."""
    factory = request.param

    def make(*, quota_bytes: int = BIG_QUOTA) -> Outbox:
        return factory(tmp_path, quota_bytes)  # type: ignore[no-any-return]

    return make


@pytest.fixture
async def box(make_box: MakeBox) -> AsyncIterator[Outbox]:
    async with make_box() as opened:
        yield opened


def rec(lane: Lane, seq: int, size: int = 10, *, channel: str = "", boot: str = BOOT) -> NewRecord:
    default = {Lane.EVENT: "event", Lane.STATE: "state", Lane.TELEMETRY: "data"}[lane]
    payload = f"{lane.name}:{seq}:".encode().ljust(size, b".")[:size]
    return NewRecord(lane, channel or default, boot, seq, payload, created_ms=1000 + seq)


def keys(records: list[OutboxRecord]) -> list[tuple[Lane, int]]:
    return [(r.lane, r.seq) for r in records]


async def take_all(box: Outbox, now_ms: int = 1_000) -> list[OutboxRecord]:
    return await box.take(1000, now_ms=now_ms, resend_after_ms=RESEND)


# ---------------------------------------------------------------------------------------------
# Adding and taking


async def test_add_returns_accepted_and_take_returns_the_record(box: Outbox) -> None:
    outcome = await box.add(Lane.EVENT, "event", BOOT, 7, b"payload", 1234)

    assert outcome is AddOutcome.ACCEPTED
    (record,) = await take_all(box)
    assert record == OutboxRecord(record.id, Lane.EVENT, "event", BOOT, 7, b"payload", 1234, 1)


async def test_take_sends_events_then_state_then_telemetry(box: Outbox) -> None:
    await box.add_many([rec(Lane.TELEMETRY, 0), rec(Lane.STATE, 0), rec(Lane.TELEMETRY, 1)])
    await box.add_many([rec(Lane.EVENT, 0), rec(Lane.STATE, 1), rec(Lane.EVENT, 1)])

    taken = await take_all(box)

    assert keys(taken) == [
        (Lane.EVENT, 0),
        (Lane.EVENT, 1),
        (Lane.STATE, 0),
        (Lane.STATE, 1),
        (Lane.TELEMETRY, 0),
        (Lane.TELEMETRY, 1),
    ]


async def test_take_keeps_insertion_order_within_a_lane_not_seq_order(box: Outbox) -> None:
    for seq in (5, 2, 9, 0):
        await box.add_many([rec(Lane.TELEMETRY, seq)])

    taken = await take_all(box)

    assert [r.seq for r in taken] == [5, 2, 9, 0]
    assert [r.id for r in taken] == sorted(r.id for r in taken)


async def test_take_honours_limit_across_lanes(box: Outbox) -> None:
    await box.add_many([rec(Lane.TELEMETRY, s) for s in range(3)] + [rec(Lane.EVENT, 0)])

    first = await box.take(2, now_ms=1, resend_after_ms=RESEND)
    second = await box.take(2, now_ms=1, resend_after_ms=RESEND)
    third = await box.take(2, now_ms=1, resend_after_ms=RESEND)

    assert keys(first) == [(Lane.EVENT, 0), (Lane.TELEMETRY, 0)]
    assert keys(second) == [(Lane.TELEMETRY, 1), (Lane.TELEMETRY, 2)]
    assert third == []
    assert await box.take(0, now_ms=10**9, resend_after_ms=0) == []


async def test_take_stops_before_max_bytes_across_lanes(box: Outbox) -> None:
    await box.add_many([rec(Lane.EVENT, 0, 40)] + [rec(Lane.TELEMETRY, s, 30) for s in range(4)])

    first = await box.take(10, now_ms=1, resend_after_ms=RESEND, max_bytes=100)
    second = await box.take(10, now_ms=1, resend_after_ms=RESEND, max_bytes=60)
    third = await box.take(10, now_ms=1, resend_after_ms=RESEND, max_bytes=60)

    assert keys(first) == [(Lane.EVENT, 0), (Lane.TELEMETRY, 0), (Lane.TELEMETRY, 1)]  # 100 B
    assert keys(second) == [(Lane.TELEMETRY, 2), (Lane.TELEMETRY, 3)]  # 60 B: exactly fits
    assert third == []


async def test_a_record_larger_than_max_bytes_is_taken_alone(box: Outbox) -> None:
    await box.add_many([rec(Lane.TELEMETRY, 0, 500), rec(Lane.TELEMETRY, 1, 10)])

    first = await box.take(10, now_ms=1, resend_after_ms=RESEND, max_bytes=100)
    second = await box.take(10, now_ms=1, resend_after_ms=RESEND, max_bytes=100)

    assert keys(first) == [(Lane.TELEMETRY, 0)]
    assert keys(second) == [(Lane.TELEMETRY, 1)]
    assert (await box.stats()).in_flight == 2


async def test_take_only_the_given_lanes(box: Outbox) -> None:
    await box.add_many([rec(Lane.TELEMETRY, 0), rec(Lane.STATE, 0), rec(Lane.EVENT, 0)])

    taken = await box.take(10, now_ms=1, resend_after_ms=RESEND, lanes=[Lane.TELEMETRY, Lane.EVENT])

    assert keys(taken) == [(Lane.EVENT, 0), (Lane.TELEMETRY, 0)]
    assert keys(await take_all(box)) == [(Lane.STATE, 0)]


async def test_taken_records_are_not_due_again_until_resend_after_has_passed(box: Outbox) -> None:
    await box.add_many([rec(Lane.EVENT, 0), rec(Lane.TELEMETRY, 0)])

    first = await box.take(10, now_ms=1_000, resend_after_ms=5_000)
    assert [r.attempts for r in first] == [1, 1]
    await box.add_many([rec(Lane.TELEMETRY, 1)])

    assert keys(await box.take(10, now_ms=3_000, resend_after_ms=5_000)) == [(Lane.TELEMETRY, 1)]
    assert await box.take(10, now_ms=6_000, resend_after_ms=5_000) == []  # not *more* than
    again = await box.take(10, now_ms=6_001, resend_after_ms=5_000)

    assert keys(again) == [(Lane.EVENT, 0), (Lane.TELEMETRY, 0)]
    assert [r.attempts for r in again] == [2, 2]
    assert [r.id for r in again] == [r.id for r in first]
    assert keys(await box.take(10, now_ms=8_001, resend_after_ms=5_000)) == [(Lane.TELEMETRY, 1)]


async def test_a_clock_stepped_back_makes_in_flight_records_due(box: Outbox) -> None:
    await box.add_many([rec(Lane.EVENT, 0)])
    await box.take(10, now_ms=50_000, resend_after_ms=5_000)

    assert keys(await box.take(10, now_ms=49_999, resend_after_ms=5_000)) == [(Lane.EVENT, 0)]


async def test_records_stay_until_confirmed(box: Outbox) -> None:
    await box.add_many([rec(Lane.EVENT, 0), rec(Lane.TELEMETRY, 0)])
    await take_all(box)

    stats = await box.stats()

    assert stats.total == 2
    assert stats.in_flight == 2


async def test_release_makes_records_due_at_once(box: Outbox) -> None:
    await box.add_many([rec(Lane.EVENT, s) for s in range(3)])
    taken = await take_all(box, now_ms=1_000)

    await box.release([taken[0].id, taken[2].id, 999_999])

    assert keys(await take_all(box, now_ms=1_000)) == [(Lane.EVENT, 0), (Lane.EVENT, 2)]
    assert (await box.stats()).in_flight == 3


async def test_release_of_records_not_in_flight_changes_nothing(box: Outbox) -> None:
    await box.add_many([rec(Lane.EVENT, 0)])
    (record,) = await take_all(box)
    await box.release([record.id])
    await box.release([record.id])
    await box.release([])

    assert (await box.stats()).in_flight == 0
    assert [r.attempts for r in await take_all(box)] == [2]


async def test_requeue_makes_the_given_ranges_due_at_once(box: Outbox) -> None:
    await box.add_many([rec(Lane.TELEMETRY, s) for s in range(6)])
    await box.add_many([rec(Lane.TELEMETRY, s, boot=OTHER_BOOT) for s in range(3)])
    await box.add_many([rec(Lane.TELEMETRY, s, channel="health") for s in range(3)])
    await take_all(box, now_ms=1_000)

    matched = await box.requeue(BOOT, "data", [(1, 2), (4, 100)])

    assert matched == 4
    again = await take_all(box, now_ms=1_000)
    assert [(r.boot, r.channel, r.seq) for r in again] == [
        (BOOT, "data", 1),
        (BOOT, "data", 2),
        (BOOT, "data", 4),
        (BOOT, "data", 5),
    ]


async def test_requeue_counts_records_already_due_and_ignores_unknown_ones(box: Outbox) -> None:
    await box.add_many([rec(Lane.EVENT, s) for s in range(3)])

    assert await box.requeue(BOOT, "event", [(0, 1), (50, 60)]) == 2
    assert await box.requeue(OTHER_BOOT, "event", [(0, 10)]) == 0
    assert (await box.stats()).in_flight == 0


async def test_confirm_deletes_only_the_given_ranges_of_that_boot_and_channel(
    box: Outbox,
) -> None:
    await box.add_many([rec(Lane.TELEMETRY, s) for s in range(10)])
    await box.add_many([rec(Lane.TELEMETRY, s, boot=OTHER_BOOT) for s in range(10)])
    await box.add_many([rec(Lane.TELEMETRY, s, channel="health") for s in range(10)])
    await box.add_many([rec(Lane.EVENT, s) for s in range(10)])
    await take_all(box)

    deleted = await box.confirm(BOOT, "data", [(0, 3), (7, 7), (20, 30)])

    assert deleted == 5
    remaining = await take_all(box, now_ms=10**9)
    left = {(r.boot, r.channel) for r in remaining}
    assert left == {(BOOT, "data"), (OTHER_BOOT, "data"), (BOOT, "health"), (BOOT, "event")}
    assert sorted(r.seq for r in remaining if (r.boot, r.channel) == (BOOT, "data")) == [
        4,
        5,
        6,
        8,
        9,
    ]
    assert (await box.stats()).total == 35


async def test_confirm_is_idempotent(box: Outbox) -> None:
    await box.add_many([rec(Lane.EVENT, s) for s in range(4)])
    await take_all(box)

    assert await box.confirm(BOOT, "event", [(0, 1)]) == 2
    assert await box.confirm(BOOT, "event", [(0, 1)]) == 0
    assert await box.confirm(BOOT, "event", [(0, 3), (0, 3)]) == 2
    assert await box.confirm("ffffffff", "event", [(0, 2**63 - 1)]) == 0
    stats = await box.stats()
    assert (stats.total, stats.bytes, stats.in_flight) == (0, 0, 0)


async def test_a_range_backwards_is_a_caller_bug(box: Outbox) -> None:
    with pytest.raises(ValueError, match="first <= last"):
        await box.confirm(BOOT, "event", [(5, 4)])
    with pytest.raises(ValueError, match="first <= last"):
        await box.requeue(BOOT, "event", [(5, 4)])


async def test_adding_the_same_seq_twice_is_a_no_op(box: Outbox) -> None:
    first = await box.add(Lane.EVENT, "event", BOOT, 3, b"original", 1)
    second = await box.add(Lane.EVENT, "event", BOOT, 3, b"a second, longer payload", 2)

    assert (first, second) == (AddOutcome.ACCEPTED, AddOutcome.DUPLICATE)
    (record,) = await take_all(box)
    assert (record.payload, record.created_ms) == (b"original", 1)
    assert (await box.stats()).bytes == len(b"original")


async def test_the_same_seq_on_another_channel_or_boot_is_another_record(box: Outbox) -> None:
    outcomes = await box.add_many(
        [
            rec(Lane.EVENT, 0),
            rec(Lane.EVENT, 0, boot=OTHER_BOOT),
            rec(Lane.STATE, 0),
            rec(Lane.EVENT, 0),
        ]
    )

    assert outcomes == [AddOutcome.ACCEPTED] * 3 + [AddOutcome.DUPLICATE]
    assert (await box.stats()).total == 3


async def test_a_confirmed_seq_added_again_is_stored_again(box: Outbox) -> None:
    await box.add_many([rec(Lane.EVENT, 0)])
    (first,) = await take_all(box)
    await box.confirm(BOOT, "event", [(0, 0)])

    assert await box.add_many([rec(Lane.EVENT, 0)]) == [AddOutcome.ACCEPTED]
    (second,) = await take_all(box)
    assert second.id > first.id  # ids are never reused


async def test_add_many_of_nothing(box: Outbox) -> None:
    assert await box.add_many([]) == []


async def test_stats_count_depth_bytes_and_in_flight(box: Outbox) -> None:
    await box.add_many([rec(Lane.EVENT, 0, 100), rec(Lane.STATE, 0, 20)])
    await box.add_many([rec(Lane.TELEMETRY, s, 50) for s in range(3)])
    await box.take(3, now_ms=1, resend_after_ms=RESEND)

    stats = await box.stats()

    assert stats.depth == {Lane.EVENT: 1, Lane.STATE: 1, Lane.TELEMETRY: 3}
    assert stats.bytes == 270
    assert stats.in_flight == 3
    assert stats.dropped == {"telemetry_quota": 0, "telemetry_evicted": 0}
    assert stats.pressure is Pressure.NORMAL

    await box.confirm(BOOT, "data", [(0, 0)])
    await box.confirm(BOOT, "event", [(0, 0)])
    stats = await box.stats()
    assert (stats.total, stats.bytes, stats.in_flight) == (3, 120, 1)


# ---------------------------------------------------------------------------------------------
# Quota


@pytest.mark.parametrize(
    ("stored", "pressure"),
    [
        (0, Pressure.NORMAL),
        (799, Pressure.NORMAL),
        (800, Pressure.COARSEN),
        (999, Pressure.COARSEN),
        (1000, Pressure.FULL),
        (1500, Pressure.FULL),
    ],
)
async def test_pressure_thresholds(make_box: MakeBox, stored: int, pressure: Pressure) -> None:
    async with make_box(quota_bytes=1000) as box:
        if stored:
            await box.add_many([rec(Lane.EVENT, 0, stored)])

        assert (await box.stats()).pressure is pressure


async def test_telemetry_is_refused_and_counted_when_full(make_box: MakeBox) -> None:
    async with make_box(quota_bytes=1000) as box:
        assert (
            await box.add_many([rec(Lane.TELEMETRY, s, 250) for s in range(4)])
            == [AddOutcome.ACCEPTED] * 4
        )
        assert (await box.stats()).pressure is Pressure.FULL

        outcomes = await box.add_many([rec(Lane.TELEMETRY, 4, 1), rec(Lane.TELEMETRY, 5, 0)])

        assert outcomes == [AddOutcome.DROPPED_QUOTA] * 2
        stats = await box.stats()
        assert stats.dropped == {"telemetry_quota": 2, "telemetry_evicted": 0}
        assert (stats.total, stats.bytes) == (4, 1000)


async def test_telemetry_never_takes_the_store_over_the_quota(make_box: MakeBox) -> None:
    async with make_box(quota_bytes=1000) as box:
        await box.add_many([rec(Lane.TELEMETRY, 0, 900)])

        assert await box.add_many([rec(Lane.TELEMETRY, 1, 101)]) == [AddOutcome.DROPPED_QUOTA]
        assert await box.add_many([rec(Lane.TELEMETRY, 2, 100)]) == [AddOutcome.ACCEPTED]
        assert (await box.stats()).dropped[DropReason.TELEMETRY_QUOTA] == 1


async def test_a_duplicate_telemetry_seq_when_full_is_a_duplicate_not_a_drop(
    make_box: MakeBox,
) -> None:
    async with make_box(quota_bytes=100) as box:
        await box.add_many([rec(Lane.TELEMETRY, 0, 100)])

        assert await box.add_many([rec(Lane.TELEMETRY, 0, 100)]) == [AddOutcome.DUPLICATE]
        assert (await box.stats()).dropped[DropReason.TELEMETRY_QUOTA] == 0


async def test_an_event_evicts_the_oldest_telemetry_until_it_fits(make_box: MakeBox) -> None:
    async with make_box(quota_bytes=1000) as box:
        await box.add_many([rec(Lane.TELEMETRY, s, 200) for s in range(3)])
        await box.add_many([rec(Lane.TELEMETRY, s, 100, channel="health") for s in range(2)])
        assert await box.add_many([rec(Lane.TELEMETRY, 3, 250)]) == [AddOutcome.DROPPED_QUOTA]
        assert (await box.stats()).bytes == 800

        assert await box.add(Lane.EVENT, "event", BOOT, 0, b"e" * 500, 1) == AddOutcome.ACCEPTED

        stats = await box.stats()
        assert stats.bytes == 900
        assert stats.depth == {Lane.EVENT: 1, Lane.STATE: 0, Lane.TELEMETRY: 3}
        assert stats.dropped == {"telemetry_quota": 1, "telemetry_evicted": 2}
        assert await box.evicted() == [EvictedRange(BOOT, "data", 0, 1)]
        remaining = await take_all(box)
        assert [(r.channel, r.seq) for r in remaining] == [
            ("event", 0),
            ("data", 2),
            ("health", 0),
            ("health", 1),
        ]


async def test_evicted_ranges_are_merged_per_boot_and_channel(make_box: MakeBox) -> None:
    async with make_box(quota_bytes=1000) as box:
        await box.add_many(
            [
                rec(Lane.TELEMETRY, 0, 100),
                rec(Lane.TELEMETRY, 1, 100),
                rec(Lane.TELEMETRY, 0, 100, boot=OTHER_BOOT),
                rec(Lane.TELEMETRY, 2, 100),
                rec(Lane.TELEMETRY, 0, 100, channel="health"),
                rec(Lane.TELEMETRY, 4, 100),
                rec(Lane.TELEMETRY, 5, 100),
                rec(Lane.TELEMETRY, 6, 100),
            ]
        )
        await box.add_many([rec(Lane.STATE, 0, 100), rec(Lane.EVENT, 0, 750)])

        assert (await box.stats()).dropped[DropReason.TELEMETRY_EVICTED] == 7
        assert await box.evicted() == [
            EvictedRange(BOOT, "data", 0, 2),
            EvictedRange(BOOT, "data", 4, 5),
            EvictedRange(BOOT, "health", 0, 0),
            EvictedRange(OTHER_BOOT, "data", 0, 0),
        ]
        assert keys(await take_all(box)) == [(Lane.EVENT, 0), (Lane.STATE, 0), (Lane.TELEMETRY, 6)]


async def test_evicting_in_flight_telemetry_keeps_the_in_flight_count(make_box: MakeBox) -> None:
    async with make_box(quota_bytes=300) as box:
        await box.add_many([rec(Lane.TELEMETRY, s, 100) for s in range(3)])
        await box.take(2, now_ms=1, resend_after_ms=RESEND)

        await box.add_many([rec(Lane.EVENT, 0, 150)])

        stats = await box.stats()
        assert (stats.in_flight, stats.bytes, stats.total) == (0, 250, 2)
        assert await box.confirm(BOOT, "data", [(0, 1)]) == 0


async def test_events_and_state_are_never_dropped(make_box: MakeBox) -> None:
    async with make_box(quota_bytes=1000) as box:
        await box.add_many([rec(Lane.TELEMETRY, 0, 400)])

        outcomes = await box.add_many(
            [rec(Lane.EVENT, s, 300) for s in range(5)] + [rec(Lane.STATE, 0, 300)]
        )

        assert outcomes == [AddOutcome.ACCEPTED] * 6
        stats = await box.stats()
        assert stats.depth == {Lane.EVENT: 5, Lane.STATE: 1, Lane.TELEMETRY: 0}
        assert stats.bytes == 1800
        assert stats.pressure is Pressure.FULL
        assert stats.dropped == {"telemetry_quota": 0, "telemetry_evicted": 1}


async def test_an_event_larger_than_the_whole_quota_is_accepted(make_box: MakeBox) -> None:
    async with make_box(quota_bytes=100) as box:
        assert await box.add(Lane.EVENT, "event", BOOT, 0, b"x" * 5000, 1) == AddOutcome.ACCEPTED
        assert await box.add(Lane.STATE, "state", BOOT, 0, b"x" * 5000, 1) == AddOutcome.ACCEPTED
        assert await box.add(Lane.TELEMETRY, "data", BOOT, 0, b"x", 1) == AddOutcome.DROPPED_QUOTA


async def test_confirming_records_relieves_pressure(make_box: MakeBox) -> None:
    async with make_box(quota_bytes=1000) as box:
        await box.add_many([rec(Lane.TELEMETRY, s, 250) for s in range(4)])
        assert (await box.stats()).pressure is Pressure.FULL

        await box.confirm(BOOT, "data", [(0, 0)])
        assert (await box.stats()).pressure is Pressure.NORMAL
        assert await box.add_many([rec(Lane.TELEMETRY, 4, 250)]) == [AddOutcome.ACCEPTED]


async def test_forget_evicted_removes_what_the_hub_was_told(make_box: MakeBox) -> None:
    async with make_box(quota_bytes=500) as box:
        await box.add_many([rec(Lane.TELEMETRY, s, 100) for s in range(5)])
        await box.add_many([rec(Lane.EVENT, 0, 500)])
        assert await box.evicted() == [EvictedRange(BOOT, "data", 0, 4)]

        await box.forget_evicted(BOOT, "data", [(1, 2)])
        assert await box.evicted() == [
            EvictedRange(BOOT, "data", 0, 0),
            EvictedRange(BOOT, "data", 3, 4),
        ]
        await box.forget_evicted(BOOT, "data", [(0, 10)])
        await box.forget_evicted(OTHER_BOOT, "data", [(0, 10)])
        assert await box.evicted() == []


# ---------------------------------------------------------------------------------------------
# Misuse


async def test_an_outbox_is_used_inside_async_with(make_box: MakeBox) -> None:
    box = make_box()
    with pytest.raises(RuntimeError, match="async with"):
        await box.add(Lane.EVENT, "event", BOOT, 0, b"x", 1)
    async with box:
        pass
    with pytest.raises(RuntimeError, match="async with"):
        await box.stats()


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"channel": "cmd"}, ValueError),
        ({"channel": "telemetry"}, ValueError),
        ({"boot": ""}, ValueError),
        ({"seq": -1}, ValueError),
        ({"seq": 2**63}, ValueError),
        ({"seq": 1.0}, TypeError),
        ({"payload": "text"}, TypeError),
        ({"lane": 7}, ValueError),
    ],
)
async def test_a_bad_record_is_refused_before_anything_is_stored(
    box: Outbox, change: dict[str, object], error: type[Exception]
) -> None:
    fields: dict[str, object] = {
        "lane": Lane.EVENT,
        "channel": "event",
        "boot": BOOT,
        "seq": 0,
        "payload": b"x",
        "created_ms": 1,
    } | change

    with pytest.raises(error):
        await box.add(**fields)  # type: ignore[arg-type]
    assert (await box.stats()).total == 0


@pytest.mark.parametrize("quota", [0, -1])
def test_the_quota_must_be_positive(make_box: MakeBox, quota: int) -> None:
    with pytest.raises(ValueError, match="quota_bytes"):
        make_box(quota_bytes=quota)


async def test_take_refuses_negative_arguments(box: Outbox) -> None:
    with pytest.raises(ValueError, match="limit"):
        await box.take(-1, now_ms=0, resend_after_ms=0)
    with pytest.raises(ValueError, match="resend_after_ms"):
        await box.take(1, now_ms=0, resend_after_ms=-1)
    with pytest.raises(ValueError, match="max_bytes"):
        await box.take(1, now_ms=0, resend_after_ms=0, max_bytes=0)


def test_public_names() -> None:
    assert sorted(edge.outbox.__all__) == [
        "AddOutcome",
        "DropReason",
        "EvictedRange",
        "Lane",
        "MemoryOutbox",
        "NewRecord",
        "Outbox",
        "OutboxError",
        "OutboxRecord",
        "OutboxStats",
        "Pressure",
        "SqliteOutbox",
    ]


# ---------------------------------------------------------------------------------------------
# Both implementations, side by side: any sequence of operations gives the same answers.


@dataclass(frozen=True)
class Add:
    records: list[NewRecord]


@dataclass(frozen=True)
class Take:
    limit: int
    advance_ms: int
    events_only: bool
    max_bytes: int | None


@dataclass(frozen=True)
class Confirm:
    boot: str
    channel: str
    ranges: list[tuple[int, int]]


@dataclass(frozen=True)
class Requeue(Confirm):
    pass


@dataclass(frozen=True)
class Release:
    picks: list[int]
    """Positions in the list of ids taken so far (ids differ between implementations: SQLite
    may skip some); a pick past the end is an id that does not exist."""


Op = Add | Take | Confirm | Release

_seqs = st.integers(0, 12)
_boots = st.sampled_from([BOOT, OTHER_BOOT])
_channels = st.sampled_from(["data", "event"])
_ranges = st.lists(
    st.tuples(_seqs, _seqs).map(lambda pair: (min(pair), max(pair))), min_size=1, max_size=3
)
_record = st.builds(
    NewRecord,
    lane=st.sampled_from(list(Lane)),
    channel=_channels,
    boot=_boots,
    seq=_seqs,
    payload=st.integers(0, 120).map(lambda n: b"p" * n),
    created_ms=st.just(1),
)
_ops: st.SearchStrategy[list[Op]] = st.lists(
    st.one_of(
        st.builds(Add, st.lists(_record, min_size=1, max_size=4)),
        st.builds(
            Take,
            st.integers(0, 5),
            st.sampled_from([0, 400, 800, 1200]),
            st.booleans(),
            st.one_of(st.none(), st.integers(1, 300)),
        ),
        st.builds(Confirm, _boots, _channels, _ranges),
        st.builds(Requeue, _boots, _channels, _ranges),
        st.builds(Release, st.lists(st.integers(0, 30), max_size=4)),
    ),
    max_size=25,
)


async def _replay(box: Outbox, ops: list[Op]) -> list[object]:
    answers: list[object] = []
    taken_ids: dict[int, int] = {}  # id -> the order in which it was first taken
    now = 1_000
    for op in ops:
        match op:
            case Add(records):
                answers.append(await box.add_many(records))
            case Take(limit, advance_ms, events_only, max_bytes):
                now += advance_ms
                lanes = [Lane.EVENT] if events_only else None
                taken = await box.take(
                    limit, now_ms=now, resend_after_ms=500, lanes=lanes, max_bytes=max_bytes
                )
                for record in taken:
                    taken_ids.setdefault(record.id, len(taken_ids))
                answers.append([replace(r, id=taken_ids[r.id]) for r in taken])
            case Requeue(boot, channel, ranges):
                answers.append(await box.requeue(boot, channel, ranges))
            case Confirm(boot, channel, ranges):
                answers.append(await box.confirm(boot, channel, ranges))
            case Release(picks):
                ids = list(taken_ids)
                await box.release([ids[p] if p < len(ids) else 10**9 for p in picks])
        answers.append(await box.stats())
    answers.append(await box.evicted())
    return answers


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=_ops)
def test_memory_and_sqlite_agree(ops: list[Op]) -> None:
    async def both() -> tuple[list[object], list[object]]:
        with tempfile.TemporaryDirectory() as tmp:
            async with MemoryOutbox(quota_bytes=600) as memory:
                expected = await _replay(memory, ops)
            path = Path(tmp) / "outbox.db"
            async with SqliteOutbox(path, quota_bytes=600, synchronous="OFF") as sqlite:
                actual = await _replay(sqlite, ops)
        return expected, actual

    expected, actual = asyncio.run(both())
    assert actual == expected
