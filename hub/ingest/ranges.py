"""A compact set of sequence numbers: sorted, disjoint, non-touching inclusive ranges.

``SeqRanges`` holds what a (gateway, boot, channel) has seen, stored, lost or still owes as a
handful of ``(first, last)`` pairs, however many numbers that is. Appending the next number
(the common case: a gateway counting up) extends the last range in O(1); anything else is a
binary search and a splice. Adjacent ranges are always merged, so ``ranges()`` is canonical and
two sets with the same members compare equal. (``edge.outbox.base.GapLedger`` keeps ranges the
same way, per (boot, channel); this is the general-purpose, per-key version the hub needs.)

``GapSchedule`` is such a set for numbers the hub is missing, with a resend timer per range.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

Span = tuple[int, int]


def _first(span: Span) -> int:
    return span[0]


def _last(span: Span) -> int:
    return span[1]


class SeqRanges:
    __slots__ = ("_count", "_spans")

    def __init__(self, ranges: Iterable[Span] = ()) -> None:
        self._spans: list[Span] = []
        self._count = 0
        for first, last in ranges:
            self.add_range(first, last)

    # -- changing -------------------------------------------------------------------------

    def add(self, seq: int) -> bool:
        """Add one number; True if it was not in the set."""
        spans = self._spans
        if spans:
            lo, hi = spans[-1]
            if seq == hi + 1:  # the next one: the common case
                spans[-1] = (lo, seq)
                self._count += 1
                return True
            if lo <= seq <= hi:
                return False
        return self.add_range(seq, seq) == 1

    def add_range(self, first: int, last: int) -> int:
        """Add ``first..last`` (inclusive); how many of them were not in the set."""
        _check(first, last)
        spans = self._spans
        # Every span that overlaps or touches [first, last] merges into one.
        start = bisect.bisect_left(spans, first - 1, key=_last)
        end = bisect.bisect_right(spans, last + 1, lo=start, key=_first)
        if start < end:
            covered = sum(hi - lo + 1 for lo, hi in spans[start:end])
            first, last = min(first, spans[start][0]), max(last, spans[end - 1][1])
        else:
            covered = 0
        spans[start:end] = [(first, last)]
        added = last - first + 1 - covered
        self._count += added
        return added

    def discard_range(self, first: int, last: int) -> int:
        """Remove ``first..last`` (inclusive); how many of them were in the set."""
        _check(first, last)
        spans = self._spans
        start, end = self._overlapping(first, last)
        kept: list[Span] = []
        removed = 0
        for lo, hi in spans[start:end]:
            removed += min(hi, last) - max(lo, first) + 1
            if lo < first:
                kept.append((lo, first - 1))
            if hi > last:
                kept.append((last + 1, hi))
        spans[start:end] = kept
        self._count -= removed
        return removed

    def discard(self, seq: int) -> bool:
        """Remove one number; True if it was in the set."""
        return self.discard_range(seq, seq) == 1

    # -- asking ---------------------------------------------------------------------------

    def __contains__(self, seq: object) -> bool:
        return isinstance(seq, int) and self.range_of(seq) is not None

    def range_of(self, seq: int) -> Span | None:
        """The range that holds ``seq``, or None."""
        spans = self._spans
        if spans and spans[-1][0] <= seq:
            return spans[-1] if seq <= spans[-1][1] else None
        at = bisect.bisect_right(spans, seq, key=_first) - 1
        return spans[at] if at >= 0 and spans[at][1] >= seq else None

    def overlapping(self, first: int, last: int) -> list[Span]:
        """The ranges that share at least one number with ``first..last``."""
        start, end = self._overlapping(first, last)
        return self._spans[start:end]

    def missing(self, upto: int, *, start: int = 0) -> tuple[Span, ...]:
        """The ranges of numbers in ``start..upto`` that are not in the set."""
        out: list[Span] = []
        if upto < start:
            return ()
        nxt = start
        for lo, hi in self.overlapping(start, upto):
            if lo > nxt:
                out.append((nxt, lo - 1))
            nxt = hi + 1
        if nxt <= upto:
            out.append((nxt, upto))
        return tuple(out)

    def ranges(self) -> tuple[Span, ...]:
        return tuple(self._spans)

    @property
    def cardinality(self) -> int:
        """How many numbers (``len()`` too, while it fits an index)."""
        return self._count

    @property
    def highest(self) -> int | None:
        return self._spans[-1][1] if self._spans else None

    @property
    def lowest(self) -> int | None:
        return self._spans[0][0] if self._spans else None

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return bool(self._spans)

    def __iter__(self) -> Iterator[Span]:
        """The ranges, lowest first (not the numbers: there may be 2**63 of them)."""
        return iter(self.ranges())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SeqRanges) and self._spans == other._spans

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"SeqRanges({self._spans!r})"

    def _overlapping(self, first: int, last: int) -> tuple[int, int]:
        start = bisect.bisect_left(self._spans, first, key=_last)
        return start, bisect.bisect_right(self._spans, last, lo=start, key=_first)


def _check(first: int, last: int) -> None:
    if not 0 <= first <= last:
        raise ValueError(f"({first}, {last}) is not a range: it needs 0 <= first <= last")


@dataclass(frozen=True, slots=True)
class _Timer:
    due_ms: int | None  # None: not armed yet
    wait_ms: int  # after the next ask


def _urgency(timer: _Timer) -> tuple[bool, int]:
    return timer.due_ms is None, timer.due_ms or 0


class GapSchedule:
    """Missing numbers, each range with when to ask for it next.

    A range opened with ``due_ms=None`` is armed by the next :meth:`take_due`, for
    ``first_wait_ms`` later. After each ask the wait doubles, up to ``max_wait_ms``. A range
    split by a fill keeps its timer in both parts; ranges that merge keep the sooner one.
    """

    __slots__ = ("_first_wait_ms", "_gaps", "_max_wait_ms", "_timers")

    def __init__(self, first_wait_ms: int, max_wait_ms: int) -> None:
        self._first_wait_ms = first_wait_ms
        self._max_wait_ms = max_wait_ms
        self._gaps = SeqRanges()
        self._timers: dict[int, _Timer] = {}  # a range's first -> its timer

    def open(self, first: int, last: int, due_ms: int | None) -> int:
        """Start waiting for ``first..last``; how many of them were not awaited yet."""
        timer = _Timer(due_ms, self._first_wait_ms)
        for lo, _ in self._gaps.overlapping(max(first - 1, 0), last + 1):  # merging neighbours
            timer = min(timer, self._timers.pop(lo), key=_urgency)
        added = self._gaps.add_range(first, last)
        span = self._gaps.range_of(first)
        assert span is not None
        self._timers[span[0]] = timer
        return added

    def close(self, first: int, last: int) -> int:
        """Stop waiting for ``first..last``; how many of them were awaited."""
        for lo, hi in self._gaps.overlapping(first, last):
            timer = self._timers.pop(lo)
            if lo < first:
                self._timers[lo] = timer
            if hi > last:
                self._timers[last + 1] = timer
        return self._gaps.discard_range(first, last)

    def take_due(self, now_ms: int) -> list[Span]:
        """The ranges to ask for now; each is then due again after its (doubled) wait."""
        due: list[Span] = []
        for lo, hi in self._gaps.ranges():
            timer = self._timers[lo]
            if timer.due_ms is None:
                self._timers[lo] = _Timer(now_ms + self._first_wait_ms, timer.wait_ms)
            elif timer.due_ms <= now_ms:
                due.append((lo, hi))
                wait = min(timer.wait_ms * 2, self._max_wait_ms)
                self._timers[lo] = _Timer(now_ms + timer.wait_ms, wait)
        return due

    def ranges(self) -> tuple[Span, ...]:
        return self._gaps.ranges()

    def __len__(self) -> int:
        return len(self._gaps)

    def __bool__(self) -> bool:
        return bool(self._gaps)
