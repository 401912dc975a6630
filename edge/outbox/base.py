"""The outbox interface, its records, and the quota policy both implementations share.

The outbox is the gateway's store-and-forward buffer: every wire message that must reach the
hub goes in with :meth:`Outbox.add` and stays until the hub confirms it stored it. The sender
takes a batch (:meth:`Outbox.take`), publishes it, and then either the hub confirms ranges
(:meth:`Outbox.confirm`), asks for ranges again (:meth:`Outbox.requeue`), or the uplink drops
before the broker acknowledged (:meth:`Outbox.release`). Taking never deletes: a record taken
and never confirmed becomes due again ``resend_after_ms`` later.

Quota (payload bytes stored; see :func:`pressure_of`)::

    stored <  80 % of quota   NORMAL    everything is accepted
    stored >= 80 % of quota   COARSEN   still accepted; the caller summarises telemetry over
                                        longer windows (the outbox only reports it)
    stored >= 100 % of quota  FULL      telemetry that does not fit is refused and counted

Telemetry never takes the stored bytes over the quota. An event or state record is never
refused: if it does not fit, the oldest telemetry records are evicted (counted, and their
sequence ranges remembered in :meth:`Outbox.evicted` so the hub can be told those gaps will
never be filled), and if there is not enough telemetry to evict it is stored anyway, over the
quota. The quota bounds telemetry, never events.

Errors: :class:`OutboxError` (the store cannot be used, the message says why and what to do);
``ValueError`` and ``TypeError`` for arguments no caller should pass.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from types import TracebackType
from typing import NamedTuple, Protocol, Self

from streetwatch.topics import Channel

COARSEN_PERCENT = 80
"""Pressure turns COARSEN when the stored payload bytes reach this share of the quota."""

OUTBOX_CHANNELS = frozenset(c.value for c in Channel if c is not Channel.CMD)
"""The channels a gateway publishes on, and so the ones an outbox record can go out on."""

MAX_SEQ = 2**63 - 1


class OutboxError(Exception):
    """The outbox store cannot be opened or used; the message names the file and the remedy."""


class Lane(IntEnum):
    """Priority lanes: a lower value is sent first."""

    EVENT = 0
    STATE = 1
    TELEMETRY = 2


class Pressure(IntEnum):
    NORMAL = 0
    COARSEN = 1
    FULL = 2


class AddOutcome(StrEnum):
    ACCEPTED = "accepted"
    """Stored (an event or state record may have evicted telemetry to get in)."""
    DUPLICATE = "duplicate"
    """A record with this (boot, channel, seq) is already stored; it was left as it was.
    Nothing is lost: treat it like ACCEPTED."""
    DROPPED_QUOTA = "dropped_quota"
    """Telemetry that did not fit under the quota; counted under ``telemetry_quota``."""


class DropReason(StrEnum):
    """Keys of :attr:`OutboxStats.dropped`."""

    TELEMETRY_QUOTA = "telemetry_quota"
    TELEMETRY_EVICTED = "telemetry_evicted"


@dataclass(frozen=True, slots=True)
class NewRecord:
    """A record to add; the outbox assigns its id. ``seq`` counts per (boot, channel)."""

    lane: Lane
    channel: str
    boot: str
    seq: int
    payload: bytes
    created_ms: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "lane", Lane(self.lane))
        if self.channel not in OUTBOX_CHANNELS:
            allowed = ", ".join(sorted(OUTBOX_CHANNELS))
            raise ValueError(f"channel {self.channel!r} is not one of {allowed}")
        object.__setattr__(self, "channel", str(Channel(self.channel)))
        if not isinstance(self.boot, str) or not self.boot:
            raise ValueError("boot must be a non-empty boot id")
        if isinstance(self.seq, bool) or not isinstance(self.seq, int):
            raise TypeError(f"seq must be an int, got {type(self.seq).__name__}")
        if not 0 <= self.seq <= MAX_SEQ:
            raise ValueError(f"seq {self.seq} is outside 0..2**63-1")
        if isinstance(self.created_ms, bool) or not isinstance(self.created_ms, int):
            raise TypeError(f"created_ms must be an int, got {type(self.created_ms).__name__}")
        if not isinstance(self.payload, bytes):
            raise TypeError(f"payload must be bytes, got {type(self.payload).__name__}")

    @property
    def size(self) -> int:
        return len(self.payload)


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    id: int
    """Outbox-local, increasing in insertion order, never reused."""
    lane: Lane
    channel: str
    """The MQTT channel it goes out on: ``event``, ``state``, ``data`` or ``health``."""
    boot: str
    """The gateway boot id this record's ``seq`` belongs to."""
    seq: int
    payload: bytes
    created_ms: int
    attempts: int
    """How many times it was taken for sending, this take included."""


@dataclass(frozen=True)
class OutboxStats:
    depth: dict[Lane, int]
    """Records stored per lane (every lane present), in flight or not."""
    bytes: int
    """Payload bytes stored: what the quota counts."""
    in_flight: int
    """Records taken and not yet confirmed, released or requeued."""
    dropped: dict[str, int]
    """Telemetry records lost, by :class:`DropReason` (every reason present)."""
    pressure: Pressure
    quota_bytes: int

    @property
    def total(self) -> int:
        return sum(self.depth.values())


class EvictedRange(NamedTuple):
    """Telemetry evicted to make room for events: seqs ``first..last`` (inclusive) of
    (boot, channel) will never be sent."""

    boot: str
    channel: str
    first: int
    last: int


class Outbox(Protocol):
    """A durable (or, in memory, merely ordered) store-and-forward buffer with priority lanes.

    An async context manager: ``async with SqliteOutbox(path, quota_bytes=...) as box:``.
    Constructors do no I/O. Every method is atomic: it happens completely or not at all.
    """

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def add(
        self, lane: Lane, channel: str, boot: str, seq: int, payload: bytes, created_ms: int
    ) -> AddOutcome:
        """Store one record; returns only once it is as durable as the outbox makes it."""
        ...

    async def add_many(self, items: Sequence[NewRecord]) -> list[AddOutcome]:
        """Store records in order, in one transaction; one outcome per item."""
        ...

    async def take(
        self,
        limit: int,
        *,
        now_ms: int,
        resend_after_ms: int,
        lanes: Collection[Lane] | None = None,
        max_bytes: int | None = None,
    ) -> list[OutboxRecord]:
        """Up to ``limit`` due records, by lane priority then insertion order, marked in flight.

        Due: never taken, released, requeued, or taken more than ``resend_after_ms`` before
        ``now_ms`` (or "after" ``now_ms``: a clock stepped back never strands a record).
        ``max_bytes``: stop before the payloads taken would pass it (one record is always
        taken, however large), so a batch of large records stays a small batch.
        """
        ...

    async def confirm(self, boot: str, channel: str, ranges: Sequence[tuple[int, int]]) -> int:
        """The hub stored these inclusive seq ranges: delete them. Idempotent; how many went."""
        ...

    async def requeue(self, boot: str, channel: str, ranges: Sequence[tuple[int, int]]) -> int:
        """The hub asks for these inclusive seq ranges again: due at once. How many matched."""
        ...

    async def release(self, ids: Collection[int]) -> None:
        """Sending these failed before the broker acknowledged them: due at once."""
        ...

    async def stats(self) -> OutboxStats: ...

    async def evicted(self) -> list[EvictedRange]:
        """Telemetry ranges evicted for events, merged, by (boot, channel) then seq."""
        ...

    async def forget_evicted(
        self, boot: str, channel: str, ranges: Sequence[tuple[int, int]]
    ) -> None:
        """The hub has been told about these evicted ranges: stop reporting them."""
        ...


# ---------------------------------------------------------------------------------------------
# Shared by the implementations, so the policy is written once.


def check_quota(quota_bytes: int) -> int:
    if isinstance(quota_bytes, bool) or not isinstance(quota_bytes, int) or quota_bytes <= 0:
        raise ValueError(f"quota_bytes must be a positive int, got {quota_bytes!r}")
    return quota_bytes


def pressure_of(stored: int, quota: int) -> Pressure:
    if stored >= quota:
        return Pressure.FULL
    if stored * 100 >= quota * COARSEN_PERCENT:
        return Pressure.COARSEN
    return Pressure.NORMAL


def telemetry_fits(stored: int, size: int, quota: int) -> bool:
    """Whether a telemetry payload of ``size`` bytes may be stored: never at FULL, never past."""
    return stored < quota and stored + size <= quota


def check_take(limit: int, resend_after_ms: int, max_bytes: int | None = None) -> None:
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    if max_bytes is not None and max_bytes < 1:
        raise ValueError(f"max_bytes must be >= 1, got {max_bytes}")
    if resend_after_ms < 0:
        raise ValueError(f"resend_after_ms must be >= 0, got {resend_after_ms}")


def over_budget(taken_bytes: int, size: int, max_bytes: int | None) -> bool:
    """Whether a record of ``size`` after ``taken_bytes`` would pass ``max_bytes`` (never the
    first record: ``taken_bytes`` 0)."""
    return max_bytes is not None and taken_bytes > 0 and taken_bytes + size > max_bytes


def due(sent_ms: int | None, now_ms: int, resend_after_ms: int) -> bool:
    return sent_ms is None or sent_ms < now_ms - resend_after_ms or sent_ms > now_ms


def lane_order(lanes: Collection[Lane] | None) -> list[Lane]:
    return sorted(Lane) if lanes is None else sorted({Lane(lane) for lane in lanes})


def check_ranges(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The ranges sorted and merged, so no seq is in two; a range with first > last is a
    caller's bug."""
    merged: list[tuple[int, int]] = []
    for first, last in sorted(ranges):
        if first > last:
            raise ValueError(f"range ({first}, {last}) is not (first, last) with first <= last")
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def empty_dropped() -> dict[str, int]:
    return {reason.value: 0 for reason in DropReason}


class GapLedger:
    """Evicted seqs, kept as sorted, merged, inclusive ranges per (boot, channel)."""

    def __init__(self, rows: Iterable[tuple[str, str, int, int]] = ()) -> None:
        self._ranges: dict[tuple[str, str], list[tuple[int, int]]] = {}
        for boot, channel, first, last in rows:
            self._insert(boot, channel, first, last)

    def add(self, boot: str, channel: str, seq: int) -> None:
        self._insert(boot, channel, seq, seq)

    def forget(self, boot: str, channel: str, ranges: Sequence[tuple[int, int]]) -> None:
        kept = self._ranges.get((boot, channel), [])
        for first, last in check_ranges(ranges):
            cut: list[tuple[int, int]] = []
            for lo, hi in kept:
                if hi < first or lo > last:
                    cut.append((lo, hi))
                    continue
                if lo < first:
                    cut.append((lo, first - 1))
                if hi > last:
                    cut.append((last + 1, hi))
            kept = cut
        self._set(boot, channel, kept)

    def of(self, boot: str, channel: str) -> list[tuple[int, int]]:
        return list(self._ranges.get((boot, channel), []))

    def all(self) -> list[EvictedRange]:
        return [
            EvictedRange(boot, channel, first, last)
            for (boot, channel), spans in sorted(self._ranges.items())
            for first, last in spans
        ]

    def _insert(self, boot: str, channel: str, first: int, last: int) -> None:
        spans = self._ranges.setdefault((boot, channel), [])
        at = bisect.bisect_left(spans, (first, last))
        # Merge with every neighbour that overlaps or touches [first, last].
        while at > 0 and spans[at - 1][1] >= first - 1:
            at -= 1
        end = at
        while end < len(spans) and spans[end][0] <= last + 1:
            first, last = min(first, spans[end][0]), max(last, spans[end][1])
            end += 1
        spans[at:end] = [(first, last)]

    def _set(self, boot: str, channel: str, spans: list[tuple[int, int]]) -> None:
        if spans:
            self._ranges[(boot, channel)] = spans
        else:
            self._ranges.pop((boot, channel), None)
