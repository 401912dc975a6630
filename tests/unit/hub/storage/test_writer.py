"""The store writer on a ManualClock, an in-memory spool and a switchable in-memory backend.

The spool runs SQLite in a thread, so a test waits for a state (``until``), never for a time;
time itself moves only by ``clock.advance``.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from support.memory_backend import MemoryBackend

from hub.storage.base import Point
from hub.storage.config import StorageConfig
from hub.storage.spool import Spool
from hub.storage.spool_codec import encode_points
from hub.storage.writer import StoreWriter
from streetwatch.clock import ManualClock

CONFIG = StorageConfig(
    batch_points=3,
    flush_interval_s=1,
    max_pending_points=100,
    timeout_s=5,
    retry_min_s=1,
    retry_max_s=4,
)
QUOTA = 10_000_000


def pt(n: int) -> Point:
    return Point("water_level", (("sensor", "s1"),), {"n": n, "cm": n / 4}, 1_000 + n)


def pts(first: int, count: int) -> list[Point]:
    return [pt(n) for n in range(first, first + count)]


async def until(check: Callable[[], bool], what: str, within_s: float = 10.0) -> None:
    """Wait (in real time, for the spool's thread) until ``check()`` holds."""
    deadline = time.monotonic() + within_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.001)


@dataclass
class Rig:
    clock: ManualClock
    backend: MemoryBackend
    spool: Spool
    writer: StoreWriter[int]
    durable: list[int] = field(default_factory=list)
    rejected: list[tuple[list[Point], str]] = field(default_factory=list)

    async def add_each(self, first: int, count: int) -> None:
        """One add per point, its number as its token."""
        for n in range(first, first + count):
            await self.writer.add([pt(n)], n)


def make_writer(
    backend: MemoryBackend, spool: Spool, clock: ManualClock, config: StorageConfig, rig: Any
) -> StoreWriter[int]:
    async def on_durable(tokens: Sequence[int]) -> None:
        rig.durable.extend(tokens)

    async def on_rejected(points: Sequence[Point], reason: str) -> None:
        rig.rejected.append((list(points), reason))

    return StoreWriter(
        backend,
        spool,
        config,
        clock=clock,
        on_durable=on_durable,
        on_rejected=on_rejected,
        rng=random.Random(7),
    )


@asynccontextmanager
async def running(
    *, quota: int = QUOTA, path: Path | None = None, **config: Any
) -> AsyncIterator[Rig]:
    clock, backend = ManualClock(), MemoryBackend()
    async with Spool(path, quota) as spool:
        rig = Rig(clock, backend, spool, None)  # type: ignore[arg-type]
        rig.writer = make_writer(backend, spool, clock, CONFIG.model_copy(update=config), rig)
        async with rig.writer:
            yield rig


# ---------------------------------------------------------------------------------------------
# Batching


async def test_a_full_batch_goes_at_once_and_the_rest_after_the_interval() -> None:
    async with running() as rig:
        await rig.add_each(0, 7)
        await until(lambda: rig.durable == list(range(6)), "two full batches")
        await until(lambda: rig.clock.sleepers == 1, "the flush timer")
        assert rig.backend.writes == [3, 3]
        await rig.clock.advance(0.99)
        assert rig.backend.writes == [3, 3]
        await rig.clock.advance(0.01)
        await until(lambda: rig.durable == list(range(7)), "the last point")
        assert rig.backend.points == pts(0, 7)
        assert rig.backend.writes == [3, 3, 1]


async def test_the_interval_runs_from_the_oldest_pending_point() -> None:
    async with running() as rig:
        await rig.add_each(0, 1)
        await until(lambda: rig.clock.sleepers == 1, "the flush timer")
        await rig.clock.advance(0.6)
        await rig.add_each(1, 1)
        await rig.clock.advance(0.4)
        await until(lambda: rig.durable == [0, 1], "both points")
        assert rig.backend.writes == [2]


async def test_a_large_add_is_split_and_its_token_waits_for_its_last_point() -> None:
    async with running() as rig:
        await rig.writer.add(pts(0, 7), 0)
        await rig.writer.add([], 1)
        await until(lambda: rig.backend.writes == [3, 3], "two full batches")
        assert rig.durable == []
        await rig.writer.flush()
        assert rig.durable == [0, 1]
        assert rig.backend.points == pts(0, 7)


async def test_an_add_without_points_is_durable_in_add_order() -> None:
    async with running() as rig:
        await rig.writer.add([], 0)
        await rig.writer.add([pt(1)], 1)
        await rig.writer.add([], 2)
        await rig.writer.flush()
        assert rig.durable == [0, 1, 2]
        await rig.writer.add([], 3)
        await until(lambda: rig.clock.sleepers == 1, "the flush timer")
        await rig.clock.advance(1)
        await until(lambda: rig.durable == [0, 1, 2, 3], "the empty add")
        assert rig.backend.writes == [1]


# ---------------------------------------------------------------------------------------------
# A backend that is down, slow or refuses


async def test_down_backend_spools_then_drains_in_order_with_new_points_behind() -> None:
    async with running() as rig:
        rig.backend.up = False
        await rig.add_each(0, 6)
        await until(lambda: rig.durable == list(range(6)), "spooled points durable")
        assert rig.spool.depth_points == 6
        assert rig.backend.writes == [3]  # the second batch went behind the first, unwritten
        rig.backend.up = True
        await rig.add_each(6, 3)  # the spool is not empty: these go behind it
        await until(lambda: rig.durable == list(range(9)), "points behind the spool")
        assert rig.spool.depth_points == 9
        assert rig.backend.points == []

        await until(lambda: rig.clock.sleepers == 1, "the drain waiting to retry")
        await rig.clock.advance(1)
        await until(lambda: rig.spool.depth_batches == 0, "the drain")
        assert rig.backend.points == pts(0, 9)
        await rig.add_each(9, 3)
        await until(lambda: rig.durable == list(range(12)), "a direct write")
        assert rig.backend.points == pts(0, 12)
        stats = rig.writer.stats()
        assert (stats.written_points, stats.spooled_points, stats.drained_points) == (3, 9, 9)
        assert (stats.write_failures, stats.backend_up, stats.spool_points) == (1, True, 0)


async def test_a_slow_backend_times_out_into_the_spool() -> None:
    async with running() as rig:
        rig.backend.hang = True
        await rig.add_each(0, 3)
        await until(lambda: rig.backend.writing == 1 and rig.clock.sleepers == 1, "a write")
        await rig.clock.advance(4.9)
        assert rig.durable == []
        await rig.clock.advance(0.1)
        await until(lambda: rig.durable == [0, 1, 2], "spooled after the timeout")
        assert rig.backend.writing == 0
        assert rig.writer.stats().backend_up is False
        rig.backend.hang = False
        await until(lambda: rig.clock.sleepers == 1, "the drain waiting to retry")
        await rig.clock.advance(1)
        await until(lambda: rig.spool.depth_batches == 0, "the drain")
        assert rig.backend.points == pts(0, 3)


async def test_write_latency_is_measured_on_the_clock() -> None:
    async with running() as rig:
        rig.backend.hang = True
        await rig.add_each(0, 3)
        await until(lambda: rig.backend.writing == 1, "a write")
        await rig.clock.advance(2.5)
        rig.backend.hang = False
        await until(lambda: rig.durable == [0, 1, 2], "the write")
        stats = rig.writer.stats()
        assert (stats.write_latency.count, stats.write_latency.p99_s) == (1, 2.5)
        assert stats.last_write_s == rig.clock.now()
        assert stats.spooled_points == 0


async def test_a_refused_point_is_isolated_and_its_neighbours_stored() -> None:
    async with running(batch_points=8) as rig:
        rig.backend.reject = lambda p: p.fields["n"] == 5
        await rig.add_each(0, 8)
        await until(lambda: rig.durable == list(range(8)), "all tokens")
        assert rig.backend.points == [pt(n) for n in range(8) if n != 5]
        ((bad, reason),) = rig.rejected
        assert bad == [pt(5)]
        assert "refused" in reason
        assert rig.writer.stats().rejected_points == 1
        assert len(rig.backend.writes) <= 1 + 2 * 3  # a bisection, not one write per point


async def test_a_backend_failing_while_isolating_spools_the_rest_in_order() -> None:
    async with running(batch_points=8) as rig:
        rig.backend.reject = lambda p: p.fields["n"] == 4
        rig.backend.on_write = lambda number: setattr(rig.backend, "up", number != 3)
        await rig.add_each(0, 8)  # writes: 0-7 refused, 0-3 stored, 4-7 fails: spooled
        await until(lambda: rig.durable == list(range(8)), "all tokens")
        assert rig.backend.points == pts(0, 4)
        assert rig.spool.depth_points == 4
        await until(lambda: rig.clock.sleepers == 1, "the drain waiting to retry")
        await rig.clock.advance(1)
        await until(lambda: rig.spool.depth_batches == 0, "the drain")
        assert rig.backend.points == [pt(n) for n in range(8) if n != 4]
        assert [bad for bad, _ in rig.rejected] == [[pt(4)]]


async def test_a_drain_failing_while_isolating_keeps_only_the_rest_spooled() -> None:
    async with running(batch_points=8) as rig:
        rig.backend.up = False
        await rig.add_each(0, 8)
        await until(lambda: rig.durable == list(range(8)), "spooled points durable")
        rig.backend.reject = lambda p: p.fields["n"] == 1
        # Drain writes: 2: 0-7 refused, 3: 0-3 refused, 4: 0-1 refused, 5: 0 stored,
        # 6: 1 refused, 7: 2-3 stored, 8: 4-7 fails, 9: 4-7 stored (not 0-7 again).
        rig.backend.on_write = lambda number: setattr(rig.backend, "up", number != 8)
        for writes in (8, 9):
            await until(lambda: rig.clock.sleepers == 1, "the drain waiting to retry")
            await rig.clock.advance(1)
            await until(lambda: len(rig.backend.writes) == writes, f"write {writes}")  # noqa: B023
        await until(lambda: rig.spool.depth_batches == 0, "the drain")
        assert rig.backend.points == [pt(n) for n in range(8) if n != 1]
        assert [bad for bad, _ in rig.rejected] == [[pt(1)]]
        assert rig.writer.stats().drained_points == 7


async def test_retries_back_off_between_retry_min_and_retry_max() -> None:
    async with running() as rig:
        attempts: list[float] = []
        rig.backend.up = False
        rig.backend.on_write = lambda _: attempts.append(rig.clock.now())
        await rig.add_each(0, 3)
        for _ in range(200):  # 50 s in steps
            await until(lambda: rig.clock.sleepers == 1, "the drain waiting to retry")
            await rig.clock.advance(0.25)
        gaps = [b - a for a, b in itertools.pairwise(attempts)]
        assert len(gaps) >= 50 / 4 - 1
        assert all(1 <= gap <= 4.25 for gap in gaps), gaps
        assert max(gaps) > 2  # it did back off


# ---------------------------------------------------------------------------------------------
# Backpressure, stopping, crashing


async def test_add_waits_when_pending_and_spool_are_full_and_nothing_is_dropped() -> None:
    quota = len(encode_points(pts(0, 3))) * 2 + 10  # two batches
    async with running(quota=quota, max_pending_points=6) as rig:
        rig.backend.up = False
        adder = asyncio.create_task(rig.add_each(0, 13))
        await until(lambda: rig.durable == list(range(6)), "two spooled batches")
        await until(lambda: rig.writer.stats().pending_points == 6, "memory full")
        await until(lambda: rig.clock.sleepers == 1, "the drain waiting to retry")
        await rig.clock.settle()
        assert not adder.done()  # point 12 waits: 6 spooled, 3 waiting for room, 3 queued
        assert rig.spool.depth_points == 6

        rig.backend.up = True
        await rig.clock.advance(1)
        await adder
        await rig.writer.flush()
        await until(lambda: rig.spool.depth_batches == 0, "the drain")
        assert rig.durable == list(range(13))
        assert rig.backend.points == pts(0, 13)  # in order, each once


async def test_leaving_flushes_pending_points(tmp_path: Path) -> None:
    async with running() as rig:
        await rig.add_each(0, 2)
    assert rig.durable == [0, 1]
    assert rig.backend.points == pts(0, 2)

    async with running(path=tmp_path / "spool.sqlite3") as rig:
        rig.backend.up = False
        await rig.add_each(0, 2)
    assert rig.durable == [0, 1]

    async with running(path=tmp_path / "spool.sqlite3") as rig:  # after a restart
        await rig.add_each(2, 1)  # behind what the last run spooled
        await rig.writer.flush()
        await until(lambda: rig.spool.depth_batches == 0, "the drain")
        assert rig.backend.points == pts(0, 3)


async def test_cancellation_mid_write_reports_nothing_that_is_not_durable() -> None:
    clock, backend = ManualClock(), MemoryBackend()
    rig = Rig(clock, backend, None, None)  # type: ignore[arg-type]

    async def hub() -> None:
        async with Spool(None, QUOTA) as spool:
            rig.spool = spool
            rig.writer = make_writer(backend, spool, clock, CONFIG, rig)
            async with rig.writer:
                await rig.add_each(0, 3)
                await until(lambda: rig.durable == [0, 1, 2], "the first batch")
                backend.hang = True
                await rig.add_each(3, 4)
                await asyncio.Future()  # run until cancelled

    task = asyncio.create_task(hub())
    await until(lambda: backend.writing == 1, "a hanging write")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert rig.durable == [0, 1, 2]
    assert backend.points == pts(0, 3)
    assert backend.writing == 0


async def test_add_outside_the_context_is_refused() -> None:
    async with running() as rig:
        pass
    with pytest.raises(RuntimeError, match="not running"):
        await rig.writer.add([pt(0)], 0)
