"""Duplicates and gaps per (gateway, boot, channel): what the hub has, and what it still owes.

Every sequenced message is :meth:`SequenceTracker.admit`-ted first: ``NEW`` means it is now
*pending* (the caller stores it, then calls :meth:`~SequenceTracker.stored`, or
:meth:`~SequenceTracker.release` if storing failed); ``DUPLICATE`` means it is pending or
stored already. A duplicate of a stored one means the gateway missed the confirm: confirm it
again (:meth:`~SequenceTracker.is_stored` tells which).

Gaps, on ``gap_channels`` only: numbers below the highest seen that are neither seen nor lost.
The first number seen of a boot, k > 0, opens the gap 0..k-1. A gap is asked for
(:meth:`~SequenceTracker.due_resends`) ``reorder_timeout_s`` after it opened (it may fill itself:
replays arrive out of order), then after doubling waits up to ``resend_max_interval_s``, until
filled or reported lost. Gap statistics count sequence numbers, not ranges.

Lifetime: the caller opens the :class:`~hub.ingest.seqstore.SeqStore` and owns it; then
``await tracker.open()`` loads the stored and lost ranges (holes below a channel's highest stored
number are gaps again, first asked for ``reorder_timeout_s`` after the next ``due_resends``).
``async with tracker`` does the same and flushes on a clean exit. Only the newest
``boots_per_gateway`` boots of a gateway are kept (in the order the hub first saw them); older
ones are forgotten, in memory and in the store. Lost ranges are written with the next
:meth:`~SequenceTracker.stored` call or :meth:`~SequenceTracker.flush`: call ``lost`` before
``stored`` of the health message that reported them, and confirm them after that.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import NamedTuple, Self

from hub.ingest.ranges import GapSchedule, SeqRanges, Span
from hub.ingest.seqstore import BootRow, RangeKind, RangeRow, SeqStore

MAX_RANGES = 1000  # per Resend, as the protocol allows


class Verdict(StrEnum):
    NEW = "new"
    DUPLICATE = "duplicate"


class SeqKey(NamedTuple):
    gateway: str
    boot: str
    channel: str
    seq: int


@dataclass(frozen=True, slots=True)
class ResendRequest:
    gateway: str
    boot: str
    channel: str
    ranges: tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class SequenceStats:
    duplicates: int
    gaps_opened: int
    gaps_filled: int
    gaps_lost: int
    open_gap_seqs: int
    resend_requests: int
    boots_forgotten: int


class _Channel:
    __slots__ = ("gaps", "highest", "lost", "pending", "stored", "track")

    def __init__(self, track: bool, gaps: GapSchedule) -> None:
        self.track = track
        self.pending, self.stored, self.lost = SeqRanges(), SeqRanges(), SeqRanges()
        self.highest: int | None = None  # highest seen (gap channels only)
        self.gaps = gaps


class _Boot:
    __slots__ = ("channels", "rank")

    def __init__(self, rank: int) -> None:
        self.rank = rank
        self.channels: dict[str, _Channel] = {}


_Dirty = tuple[str, str, str, RangeKind, int]  # gateway, boot, channel, kind, a seq in the range


class SequenceTracker:
    def __init__(
        self,
        store: SeqStore,
        *,
        reorder_timeout_s: float = 10,
        resend_max_interval_s: float = 300,
        gap_channels: Sequence[str] = ("data", "event"),
        boots_per_gateway: int = 8,
    ) -> None:
        if not 0 < reorder_timeout_s <= resend_max_interval_s:
            raise ValueError("need 0 < reorder_timeout_s <= resend_max_interval_s")
        if boots_per_gateway < 1:
            raise ValueError("boots_per_gateway must be at least 1")
        self.store = store
        self._reorder_ms = int(reorder_timeout_s * 1000)
        self._max_ms = int(resend_max_interval_s * 1000)
        self._gap_channels = frozenset(gap_channels)
        self._boots_per_gateway = boots_per_gateway
        self._gateways: dict[str, dict[str, _Boot]] = {}  # boots oldest first
        self._gappy: dict[tuple[str, str, str], None] = {}  # channels with open gaps, in order
        self._next_rank = 0
        self._dirty: set[_Dirty] = set()
        self._forget: set[tuple[str, str]] = set()
        self._write_lock = asyncio.Lock()
        self._n = dict.fromkeys(SequenceStats.__slots__, 0)

    async def open(self) -> None:
        """Load what the store kept (the store is open: its owner enters it first)."""
        await self._load()

    async def flush(self) -> None:
        """Write what is not written yet: lost ranges, and anything a failed write left."""
        await self._write()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            await self.flush()

    # -- the ingest path ------------------------------------------------------------------

    def admit(self, gateway: str, boot: str, channel: str, seq: int, now_ms: int) -> Verdict:
        ch = self._channel(gateway, boot, channel, create=True)
        assert ch is not None
        if seq in ch.stored or not ch.pending.add(seq):
            self._n["duplicates"] += 1
            return Verdict.DUPLICATE
        if ch.track:
            self._seen((gateway, boot, channel), ch, seq, now_ms)
        return Verdict.NEW

    def release(self, gateway: str, boot: str, channel: str, seq: int) -> None:
        ch = self._channel(gateway, boot, channel, create=False)
        if ch is None or not ch.pending.discard(seq) or seq in ch.stored or seq in ch.lost:
            return
        if ch.track and ch.highest is not None and seq <= ch.highest:
            self._open((gateway, boot, channel), ch, seq, seq, None)

    async def stored(self, keys: Sequence[SeqKey]) -> None:
        for gateway, boot, channel, seq in keys:
            ch = self._channel(gateway, boot, channel, create=False)
            if ch is None:  # a boot forgotten while this one was pending
                continue
            if not ch.pending.discard(seq) and ch.track:  # stored without admit
                self._seen((gateway, boot, channel), ch, seq, None)
            if ch.stored.add(seq):
                self._dirty.add((gateway, boot, channel, "stored", seq))
        await self._write()

    def is_stored(self, key: SeqKey) -> bool:
        ch = self._channel(key.gateway, key.boot, key.channel, create=False)
        return ch is not None and key.seq in ch.stored

    def lost(
        self, gateway: str, boot: str, channel: str, first: int, last: int, now_ms: int
    ) -> None:
        """Stop waiting for ``first..last``; ``now_ms`` is when the report came (unused yet)."""
        if channel not in self._gap_channels:
            return
        ch = self._channel(gateway, boot, channel, create=True)
        assert ch is not None
        # A record the gateway gave up on may have reached the hub before its confirm was lost
        # (in flight when the uplink was cut, then evicted over the quota): it is not lost.
        for lo, hi in ch.stored.missing(last, start=first):
            if ch.lost.add_range(lo, hi):
                self._dirty.add((gateway, boot, channel, "lost", lo))
        closed = ch.gaps.close(first, last)
        self._n["gaps_lost"] += closed
        self._closed((gateway, boot, channel), ch, closed)

    def due_resends(self, now_ms: int) -> list[ResendRequest]:
        out: list[ResendRequest] = []
        for key in self._gappy:
            ch = self._channel(*key, create=False)
            assert ch is not None
            due = ch.gaps.take_due(now_ms)
            for at in range(0, len(due), MAX_RANGES):
                out.append(ResendRequest(*key, tuple(due[at : at + MAX_RANGES])))
        self._n["resend_requests"] += len(out)
        return out

    def stats(self) -> SequenceStats:
        return SequenceStats(**self._n)

    # -- gaps -----------------------------------------------------------------------------

    def _seen(self, key: tuple[str, str, str], ch: _Channel, seq: int, now_ms: int | None) -> None:
        if ch.highest is None or seq > ch.highest:
            start = 0 if ch.highest is None else ch.highest + 1
            ch.highest = seq
            due = None if now_ms is None else now_ms + self._reorder_ms
            for lo, hi in ch.lost.missing(seq - 1, start=start):
                self._open(key, ch, lo, hi, due)
        elif ch.gaps:
            filled = ch.gaps.close(seq, seq)
            self._n["gaps_filled"] += filled
            self._closed(key, ch, filled)

    def _open(
        self, key: tuple[str, str, str], ch: _Channel, first: int, last: int, due: int | None
    ) -> None:
        opened = ch.gaps.open(first, last, due)
        self._n["gaps_opened"] += opened
        self._n["open_gap_seqs"] += opened
        self._gappy[key] = None

    def _closed(self, key: tuple[str, str, str], ch: _Channel, closed: int) -> None:
        self._n["open_gap_seqs"] -= closed
        if not ch.gaps:
            self._gappy.pop(key, None)

    # -- boots ----------------------------------------------------------------------------

    def _channel(self, gateway: str, boot: str, channel: str, *, create: bool) -> _Channel | None:
        b = self._gateways.get(gateway, {}).get(boot)
        if b is None:
            if not create:
                return None
            b = self._new_boot(gateway, boot, self._next_rank)
        ch = b.channels.get(channel)
        if ch is None and create:
            ch = b.channels[channel] = self._new_channel(channel)
        return ch

    def _new_channel(self, channel: str) -> _Channel:
        return _Channel(channel in self._gap_channels, GapSchedule(self._reorder_ms, self._max_ms))

    def _new_boot(self, gateway: str, boot: str, rank: int) -> _Boot:
        self._next_rank = max(self._next_rank, rank + 1)
        boots = self._gateways.setdefault(gateway, {})
        b = boots[boot] = _Boot(rank)
        while len(boots) > self._boots_per_gateway:
            self._forget_boot(gateway, next(iter(boots)))
        return b

    def _forget_boot(self, gateway: str, boot: str) -> None:
        b = self._gateways[gateway].pop(boot)
        for channel, ch in b.channels.items():
            self._n["open_gap_seqs"] -= len(ch.gaps)
            self._gappy.pop((gateway, boot, channel), None)
        self._dirty = {d for d in self._dirty if d[:2] != (gateway, boot)}
        self._forget.add((gateway, boot))
        self._n["boots_forgotten"] += 1

    # -- persistence ----------------------------------------------------------------------

    async def _load(self) -> None:
        snapshot = await self.store.load()
        for row in sorted(snapshot.boots, key=lambda r: r.rank):
            self._new_boot(row.gateway, row.boot, row.rank)
        for r in snapshot.ranges:
            b = self._gateways.get(r.gateway, {}).get(r.boot)
            if b is None:  # older than the newest boots_per_gateway: forgotten just now
                continue
            ch = b.channels.get(r.channel)
            if ch is None:
                ch = b.channels[r.channel] = self._new_channel(r.channel)
            (ch.stored if r.kind == "stored" else ch.lost).add_range(r.first, r.last)
        for gateway, boots in self._gateways.items():
            for boot, b in boots.items():
                for channel, ch in b.channels.items():
                    ch.highest = ch.stored.highest if ch.track else None
                    for lo, hi in ch.stored.missing(-1 if ch.highest is None else ch.highest):
                        for first, last in ch.lost.missing(hi, start=lo):
                            self._open((gateway, boot, channel), ch, first, last, None)

    async def _write(self) -> None:
        async with self._write_lock:
            dirty, forget = set(self._dirty), set(self._forget)
            rows: dict[RangeRow, None] = {}
            boots: dict[BootRow, None] = {}
            for gateway, boot, channel, kind, seq in sorted(dirty):
                b = self._gateways[gateway][boot]
                ch = b.channels[channel]
                span = (ch.stored if kind == "stored" else ch.lost).range_of(seq)
                assert span is not None  # ranges only grow
                rows[RangeRow(gateway, boot, channel, kind, *span)] = None
                boots[BootRow(gateway, boot, b.rank)] = None
            await self.store.write(boots=list(boots), ranges=list(rows), forget=sorted(forget))
            self._dirty -= dirty
            self._forget -= forget
