"""One way to write points to a backend: under a timeout, isolating refused points by bisection,
keeping the retry schedule and the figures the store writer reports.

A write that raises ``StorageUnavailable`` or takes longer than ``timeout_s`` (on the injected
clock) fails: :attr:`WriteAttempts.retry_at` moves to a jittered backoff delay ahead
(``retry_min_s`` to ``retry_max_s``, growing with each failure in a row). A write the backend
refuses is split in halves until each refused point is alone; the refused points go to
``on_rejected``, the others are stored. ``k`` refused points among ``n`` cost about
``2·k·log2(n)`` writes.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

from hub.storage.base import Backend, Point, StorageRejected, StorageUnavailable
from hub.storage.config import StorageConfig
from hub.storage.writer_stats import LatencyWindow
from streetwatch.backoff import Backoff
from streetwatch.clock import Clock, timer

OnRejected = Callable[[Sequence[Point], str], Awaitable[None]]


class WriteAttempts:
    def __init__(
        self,
        backend: Backend,
        config: StorageConfig,
        *,
        clock: Clock,
        on_rejected: OnRejected | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.backend = backend
        self.clock = clock
        self.timeout_s = config.timeout_s
        self.retry_min_s = config.retry_min_s
        self._on_rejected = on_rejected
        self._backoff = Backoff(config.retry_min_s, config.retry_max_s, rng)
        self.retry_at = 0.0
        """``clock.monotonic()`` before which the backend should not be tried again."""
        self.failures = 0
        self.rejected = 0
        self.latency = LatencyWindow()
        self.last_write_s: float | None = None
        self.backend_up = True

    async def write_isolating(self, points: Sequence[Point]) -> tuple[int, Sequence[Point]]:
        """Write ``points``, refused ones left out. Returns how many were stored and, if the
        backend failed on the way, the points not yet written (in order)."""
        todo: deque[Sequence[Point]] = deque([points])
        written = 0
        while todo:
            part = todo.popleft()
            try:
                await self.write(part)
            except StorageRejected as exc:
                if len(part) > 1:
                    half = len(part) // 2
                    todo.extendleft((part[half:], part[:half]))
                    continue
                self.rejected += 1
                if self._on_rejected is not None:
                    await self._on_rejected(part, str(exc))
                continue
            except StorageUnavailable:
                return written, [point for rest in (part, *todo) for point in rest]
            written += len(part)
        return written, ()

    async def write(self, points: Sequence[Point]) -> None:
        """One write; ``StorageUnavailable`` also when it takes longer than ``timeout_s``."""
        started = self.clock.monotonic()
        try:
            await self._within_timeout(self.backend.write(points))
        except StorageUnavailable:
            self.failures += 1
            self.backend_up = False
            self.retry_at = self.clock.monotonic() + self.next_delay()
            raise
        except StorageRejected:
            self.backend_up = True
            raise
        self.latency.record(self.clock.monotonic() - started)
        self.last_write_s = self.clock.now()
        self.backend_up = True
        self._backoff.reset()
        self.retry_at = 0.0

    async def wait_for_retry(self) -> None:
        """Return once :attr:`retry_at` has passed."""
        wait = self.retry_at - self.clock.monotonic()
        if wait > 0:
            await self.clock.sleep(wait)

    def next_delay(self) -> float:
        """How long to wait after one more failure."""
        return max(self.retry_min_s, self._backoff.next_delay())

    async def _within_timeout(self, write: Awaitable[None]) -> None:
        writing = asyncio.ensure_future(write)
        timeout = timer(self.clock, self.timeout_s)
        try:
            await asyncio.wait((writing, timeout), return_when=asyncio.FIRST_COMPLETED)
        finally:
            timeout.cancel()
            if not writing.done():
                writing.cancel()
                await asyncio.wait((writing,))
        if writing.cancelled():
            raise StorageUnavailable(
                f"{self.backend.name} did not answer within {self.timeout_s:g} s"
            )
        writing.result()
