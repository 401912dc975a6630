"""Counted outcomes: every rejection, drop and fault has a name and a reason (edge and hub)."""

from __future__ import annotations

from collections import Counter


class Counters:
    """Monotonic counters keyed by (what, reason), e.g. ("rejected", "not_json")."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()

    def add(self, what: str, reason: str, n: int = 1) -> None:
        self._counts[(what, reason)] += n

    def get(self, what: str, reason: str) -> int:
        return self._counts[(what, reason)]

    def by_reason(self, what: str) -> dict[str, int]:
        return {reason: n for (w, reason), n in sorted(self._counts.items()) if w == what}

    def items(self) -> list[tuple[str, str, int]]:
        return [(w, r, n) for (w, r), n in sorted(self._counts.items())]
