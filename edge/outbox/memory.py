"""An outbox in memory: the same semantics as the SQLite one, and no durability at all.

For tests, and for gateways configured without a disk. Everything in it, including the drop
counters and the evicted ranges, is lost when the process stops: records the hub had not yet
confirmed will never be sent. Every method runs without awaiting, so each is atomic.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from edge.outbox.base import (
    AddOutcome,
    DropReason,
    EvictedRange,
    GapLedger,
    Lane,
    NewRecord,
    OutboxRecord,
    OutboxStats,
    check_quota,
    check_ranges,
    check_take,
    due,
    empty_dropped,
    lane_order,
    over_budget,
    pressure_of,
    telemetry_fits,
)


@dataclass(slots=True)
class _Entry:
    id: int
    new: NewRecord
    attempts: int = 0
    sent_ms: int | None = None

    def record(self) -> OutboxRecord:
        n = self.new
        return OutboxRecord(
            self.id, n.lane, n.channel, n.boot, n.seq, n.payload, n.created_ms, self.attempts
        )


class MemoryOutbox:
    """See :class:`edge.outbox.base.Outbox`. Does not survive a restart."""

    def __init__(self, *, quota_bytes: int) -> None:
        self.quota_bytes = check_quota(quota_bytes)
        self._open = False
        self._next_id = 1
        self._lanes: dict[Lane, OrderedDict[int, _Entry]] = {lane: OrderedDict() for lane in Lane}
        self._by_id: dict[int, _Entry] = {}
        self._by_key: dict[tuple[str, str], dict[int, _Entry]] = {}
        self._bytes = 0
        self._in_flight = 0
        self._dropped = empty_dropped()
        self._gaps = GapLedger()

    async def __aenter__(self) -> Self:
        self._open = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._open = False

    async def add(
        self, lane: Lane, channel: str, boot: str, seq: int, payload: bytes, created_ms: int
    ) -> AddOutcome:
        (outcome,) = await self.add_many([NewRecord(lane, channel, boot, seq, payload, created_ms)])
        return outcome

    async def add_many(self, items: Sequence[NewRecord]) -> list[AddOutcome]:
        self._check_open()
        return [self._add(item) for item in items]

    async def take(
        self,
        limit: int,
        *,
        now_ms: int,
        resend_after_ms: int,
        lanes: Collection[Lane] | None = None,
        max_bytes: int | None = None,
    ) -> list[OutboxRecord]:
        self._check_open()
        check_take(limit, resend_after_ms, max_bytes)
        taken: list[OutboxRecord] = []
        taken_bytes = 0
        for lane in lane_order(lanes):
            for entry in self._lanes[lane].values():
                if len(taken) >= limit:
                    return taken
                if not due(entry.sent_ms, now_ms, resend_after_ms):
                    continue
                if over_budget(taken_bytes, len(entry.new.payload), max_bytes):
                    return taken
                taken_bytes += len(entry.new.payload)
                if entry.sent_ms is None:
                    self._in_flight += 1
                entry.sent_ms = now_ms
                entry.attempts += 1
                taken.append(entry.record())
        return taken

    async def confirm(self, boot: str, channel: str, ranges: Sequence[tuple[int, int]]) -> int:
        self._check_open()
        matched = self._matching(boot, channel, ranges)
        for entry in matched:
            self._remove(entry)
        return len(matched)

    async def requeue(self, boot: str, channel: str, ranges: Sequence[tuple[int, int]]) -> int:
        self._check_open()
        matched = self._matching(boot, channel, ranges)
        for entry in matched:
            self._make_due(entry)
        return len(matched)

    async def release(self, ids: Collection[int]) -> None:
        self._check_open()
        for id_ in set(ids):
            entry = self._by_id.get(id_)
            if entry is not None:
                self._make_due(entry)

    async def stats(self) -> OutboxStats:
        self._check_open()
        return OutboxStats(
            depth={lane: len(entries) for lane, entries in self._lanes.items()},
            bytes=self._bytes,
            in_flight=self._in_flight,
            dropped=dict(self._dropped),
            pressure=pressure_of(self._bytes, self.quota_bytes),
            quota_bytes=self.quota_bytes,
        )

    async def evicted(self) -> list[EvictedRange]:
        self._check_open()
        return self._gaps.all()

    async def forget_evicted(
        self, boot: str, channel: str, ranges: Sequence[tuple[int, int]]
    ) -> None:
        self._check_open()
        self._gaps.forget(boot, channel, ranges)

    # -----------------------------------------------------------------------------------------

    def _add(self, item: NewRecord) -> AddOutcome:
        key = (item.boot, item.channel)
        if item.seq in self._by_key.get(key, {}):
            return AddOutcome.DUPLICATE
        if item.lane is Lane.TELEMETRY:
            if not telemetry_fits(self._bytes, item.size, self.quota_bytes):
                self._dropped[DropReason.TELEMETRY_QUOTA] += 1
                return AddOutcome.DROPPED_QUOTA
        else:
            oldest = self._lanes[Lane.TELEMETRY]
            while oldest and self._bytes + item.size > self.quota_bytes:
                victim = next(iter(oldest.values()))
                self._remove(victim)
                self._dropped[DropReason.TELEMETRY_EVICTED] += 1
                self._gaps.add(victim.new.boot, victim.new.channel, victim.new.seq)
        entry = _Entry(self._next_id, item)
        self._next_id += 1
        self._lanes[item.lane][entry.id] = entry
        self._by_id[entry.id] = entry
        self._by_key.setdefault(key, {})[item.seq] = entry
        self._bytes += item.size
        return AddOutcome.ACCEPTED

    def _remove(self, entry: _Entry) -> None:
        key = (entry.new.boot, entry.new.channel)
        del self._lanes[entry.new.lane][entry.id]
        del self._by_id[entry.id]
        seqs = self._by_key[key]
        del seqs[entry.new.seq]
        if not seqs:
            del self._by_key[key]
        self._bytes -= entry.new.size
        if entry.sent_ms is not None:
            self._in_flight -= 1

    def _make_due(self, entry: _Entry) -> None:
        if entry.sent_ms is not None:
            entry.sent_ms = None
            self._in_flight -= 1

    def _matching(self, boot: str, channel: str, ranges: Sequence[tuple[int, int]]) -> list[_Entry]:
        checked = check_ranges(ranges)
        seqs = self._by_key.get((boot, channel), {})
        found: dict[int, _Entry] = {}
        for first, last in checked:
            if last - first < len(seqs):
                hits = (seqs.get(seq) for seq in range(first, last + 1))
                found.update((e.id, e) for e in hits if e is not None)
            else:
                found.update((e.id, e) for s, e in seqs.items() if first <= s <= last)
        return list(found.values())

    def _check_open(self) -> None:
        if not self._open:
            raise RuntimeError("use the outbox inside `async with MemoryOutbox(...) as box:`")
