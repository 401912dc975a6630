"""A storage backend in a list, for unit tests of what sits in front of a backend.

Switch it while a test runs: ``up = False`` makes writes raise ``StorageUnavailable``;
``hang = True`` makes them wait until ``hang`` is set back to ``False`` or the caller gives up
(a slow database); ``reject`` refuses any write holding a point it matches, as InfluxDB refuses
a whole request for one bad line; ``on_write`` is told the number of each write (from 1)
before it is answered, to switch the backend in the middle of a sequence. ``points`` holds
every point written, in order, repeats included; ``writes`` the size of every write attempted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Self

from hub.storage.base import Point, QueryFilter, Row, StorageRejected, StorageUnavailable


class MemoryBackend:
    name = "memory"

    def __init__(self) -> None:
        self.points: list[Point] = []
        self.writes: list[int] = []
        self.up = True
        self.reject: Callable[[Point], bool] | None = None
        self.on_write: Callable[[int], None] | None = None
        self.writing = 0
        """Writes under way now (a hanging write stays under way)."""
        self._released = asyncio.Event()
        self._released.set()

    @property
    def hang(self) -> bool:
        return not self._released.is_set()

    @hang.setter
    def hang(self, value: bool) -> None:
        if value:
            self._released.clear()
        else:
            self._released.set()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def write(self, points: Sequence[Point]) -> None:
        self.writes.append(len(points))
        if self.on_write is not None:
            self.on_write(len(self.writes))
        self.writing += 1
        try:
            await self._released.wait()
        finally:
            self.writing -= 1
        if not self.up:
            raise StorageUnavailable("memory backend is down")
        if self.reject is not None:
            bad = [p for p in points if self.reject(p)]
            if bad:
                raise StorageRejected(f"refused {len(bad)} point(s), first {bad[0]}")
        self.points.extend(points)

    async def query(self, q: QueryFilter) -> list[Row]:
        rows = [
            Row(p.measurement, p.time_ms, dict(p.tags), dict(p.fields))
            for p in self.points
            if p.time_ms >= q.since_ms
            and (q.until_ms is None or p.time_ms <= q.until_ms)
            and (q.measurement is None or p.measurement == q.measurement)
        ]
        rows.sort(key=lambda row: row.time_ms)
        return rows[-q.limit :] if q.limit else []

    async def ping(self) -> bool:
        return self.up and not self.hang
