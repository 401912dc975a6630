"""The store writer: points in, tokens out once their points are durable.

Intake (:meth:`StoreWriter.add`) queues a message's points with a token (say, the MQTT message
to acknowledge and the sequence numbers to confirm). The ``flush`` task takes batches of up to
``batch_points``, at the latest ``flush_interval_s`` after the oldest queued point arrived, and
makes each durable in one of three ways, then hands its tokens to ``on_durable`` in add order:

* the spool holds anything: the batch is appended behind it, so order is kept;
* else it is written to the backend (a write slower than ``timeout_s`` fails);
* the write failed (down, slow): the batch, or what is left of it, is appended to the spool.

A write the backend refuses (``StorageRejected``) is split in halves until every refused point
is alone; the others are stored, the refused ones go to ``on_rejected`` (one call per point),
and the tokens count as durable: sending them again could not help. The ``drain`` task writes
the spool's oldest batches to the backend and removes them, waiting with jittered backoff
(``retry_min_s`` to ``retry_max_s``) after a failure. Nothing is ever dropped: when the spool
is full the batch waits for room, and when ``max_pending_points`` are waiting in memory, ``add``
waits, which leaves the backlog in the broker and the gateways' outboxes.

Leaving the context flushes everything queued (to the backend or the spool); while neither can
take it, leaving waits. Cancellation loses only points whose tokens were never reported
durable; upstream delivers those again, and writes are idempotent. The writer uses the backend
and the spool; it does not open or close them. Writing itself (timeout, bisection, backoff) is
in ``hub.storage.attempts``.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from hub.storage.attempts import OnRejected, WriteAttempts
from hub.storage.base import Backend, Point
from hub.storage.config import StorageConfig
from hub.storage.spool import Spool, SpoolFull
from hub.storage.writer_stats import LatencySummary, WriterStats
from streetwatch.clock import Clock, wait_event
from streetwatch.component import Component

__all__ = ["LatencySummary", "StoreWriter", "WriterStats"]

T = TypeVar("T")


@dataclass(slots=True)
class _Entry(Generic[T]):
    seq: int
    points: Sequence[Point]
    token: T
    added_at: float


@dataclass(slots=True)
class _Counts:
    written: int = 0
    spooled: int = 0
    drained: int = 0


class StoreWriter(Component, Generic[T]):
    def __init__(
        self,
        backend: Backend,
        spool: Spool,
        config: StorageConfig,
        *,
        clock: Clock,
        on_durable: Callable[[Sequence[T]], Awaitable[None]],
        on_rejected: OnRejected | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._spool = spool
        self._config = config
        self._clock = clock
        self._on_durable = on_durable
        self._attempts = WriteAttempts(
            backend, config, clock=clock, on_rejected=on_rejected, rng=rng
        )
        self._running = False
        self._entries: deque[_Entry[T]] = deque()
        self._queued = 0  # points in _entries
        self._in_flight = 0  # points taken into the batch being stored
        self._next_seq = 0
        self._durable_seq = 0  # entries before this one have been reported durable
        self._flush_upto = 0  # entries before this one are flushed without waiting
        self._intake = asyncio.Lock()  # adds that wait for room go in in call order
        self._progress = asyncio.Condition()  # a batch became durable
        self._wake = asyncio.Event()  # for the flush task: something to look at
        self._spooled = asyncio.Event()  # for the drain task: the spool has grown
        self._room = asyncio.Event()  # for the flush task: the spool has shrunk
        self._counts = _Counts()

    async def start(self) -> None:
        self._running = True
        self.spawn(self._flush_loop(), "flush")
        self.spawn(self._drain_loop(), "drain")

    async def stop(self) -> None:
        self._running = False
        await self.flush()

    async def add(self, points: Sequence[Point], token: T) -> None:
        """Queue ``points``; ``token`` goes to ``on_durable`` once they (and everything added
        before them) are durable. Waits while ``max_pending_points`` are in memory."""
        if not self._running:
            raise RuntimeError("the store writer is not running: use `async with`")
        async with self._intake:
            if not self._has_room(len(points)):
                async with self._progress:
                    await self._progress.wait_for(lambda: self._has_room(len(points)))
            was_idle = not self._entries
            entry = _Entry(self._next_seq, points, token, self._clock.monotonic())
            self._entries.append(entry)
            self._next_seq += 1
            self._queued += len(points)
            if was_idle or self._queued >= self._config.batch_points:
                self._wake.set()

    async def flush(self) -> None:
        """Make everything added so far durable now, and wait until it is."""
        target = self._next_seq
        self._flush_upto = max(self._flush_upto, target)
        self._wake.set()
        async with self._progress:
            await self._progress.wait_for(lambda: self._durable_seq >= target)

    def stats(self) -> WriterStats:
        c, a = self._counts, self._attempts
        return WriterStats(
            written_points=c.written,
            spooled_points=c.spooled,
            drained_points=c.drained,
            rejected_points=a.rejected,
            write_failures=a.failures,
            pending_points=self._queued + self._in_flight,
            spool_points=self._spool.depth_points,
            spool_bytes=self._spool.depth_bytes,
            spool_batches=self._spool.depth_batches,
            last_write_s=a.last_write_s,
            write_latency=a.latency.summary(),
            backend_up=a.backend_up,
        )

    # -- the flush task ---------------------------------------------------------------------

    def _has_room(self, count: int) -> bool:
        held = self._queued + self._in_flight
        return held == 0 or held + count <= self._config.max_pending_points

    async def _flush_loop(self) -> None:
        while True:
            self._wake.clear()
            if not self._entries:
                await self._wake.wait()
                continue
            oldest = self._entries[0]
            full = self._queued >= self._config.batch_points or oldest.seq < self._flush_upto
            if not full:
                due = oldest.added_at + self._config.flush_interval_s - self._clock.monotonic()
                if due > 0 and await wait_event(self._clock, self._wake, due):
                    continue  # woken early: look again
            await self._flush_batch()

    async def _flush_batch(self) -> None:
        points: list[Point] = []
        tokens: list[T] = []
        done_seq = self._durable_seq
        while self._entries:
            entry = self._entries[0]
            room = self._config.batch_points - len(points)
            if len(entry.points) > room:  # the rest of a large add goes in the next batch
                points.extend(entry.points[:room])
                entry.points = entry.points[room:]
                break
            points.extend(entry.points)
            tokens.append(self._entries.popleft().token)
            done_seq = entry.seq + 1
        self._queued -= len(points)
        self._in_flight = len(points)
        if points:
            await self._store(points)
        if tokens:
            await self._on_durable(tokens)
        async with self._progress:
            self._in_flight = 0
            self._durable_seq = done_seq
            self._progress.notify_all()

    async def _store(self, points: Sequence[Point]) -> None:
        """Return once ``points`` are in the backend, in the spool or refused."""
        if not self._spool.depth_batches:
            written, points = await self._attempts.write_isolating(points)
            self._counts.written += written
        while points:
            self._room.clear()
            try:
                await self._spool.append(points)
            except SpoolFull:
                if self._spool.depth_batches:
                    await self._room.wait()  # the drain makes room
                else:  # the disk is full: nothing to drain, so retry the backend
                    await self._clock.sleep(self._attempts.next_delay())
                    written, points = await self._attempts.write_isolating(points)
                    self._counts.written += written
                continue
            self._counts.spooled += len(points)
            self._spooled.set()
            return

    # -- the drain task ---------------------------------------------------------------------

    async def _drain_loop(self) -> None:
        while True:
            self._spooled.clear()
            batch = await self._spool.oldest(self._config.batch_points)
            if batch is None:
                await self._spooled.wait()
                continue
            await self._attempts.wait_for_retry()
            written, rest = await self._attempts.write_isolating(batch.points)
            self._counts.drained += written
            if not rest:
                await self._spool.remove(batch.id)
            elif len(rest) < len(batch.points):
                await self._spool.replace(batch.id, rest)
            else:
                continue
            self._room.set()
