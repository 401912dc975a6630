from __future__ import annotations

import asyncio
import time

import pytest

from streetwatch.clock import (
    Clock,
    ManualClock,
    ScaledClock,
    SystemClock,
    now_ms,
    timer,
    wait_event,
)

START = 1_700_000_000.0


async def _sleeper(
    clock: ManualClock, seconds: float, name: str, woke: list[tuple[str, float]]
) -> None:
    await clock.sleep(seconds)
    woke.append((name, clock.now()))


async def test_sleepers_wake_in_deadline_order_only_past_their_deadline() -> None:
    clock = ManualClock(START)
    woke: list[tuple[str, float]] = []
    tasks = [
        asyncio.create_task(_sleeper(clock, seconds, name, woke))
        for name, seconds in [("five", 5), ("one", 1), ("three", 3), ("three-b", 3)]
    ]
    await clock.settle()
    assert clock.sleepers == 4
    assert woke == []

    await clock.advance(0.5)
    assert woke == []
    await clock.advance(0.5)  # exactly at the first deadline
    assert woke == [("one", START + 1)]
    assert clock.sleepers == 3

    await clock.advance(1.5)
    assert [name for name, _ in woke] == ["one"]

    await clock.advance(10)
    # Each sleeper sees the clock at its own deadline; equal deadlines wake in sleeping order.
    assert woke == [
        ("one", START + 1),
        ("three", START + 3),
        ("three-b", START + 3),
        ("five", START + 5),
    ]
    assert clock.now() == START + 12.5
    assert clock.sleepers == 0
    await asyncio.gather(*tasks)


async def test_a_periodic_sleeper_wakes_at_each_deadline_within_one_advance() -> None:
    clock = ManualClock(START)
    ticks: list[float] = []

    async def tick() -> None:
        while True:
            await clock.sleep(2)
            ticks.append(clock.monotonic())

    task = asyncio.create_task(tick())
    await clock.advance(7)
    assert ticks == [2, 4, 6]
    assert clock.monotonic() == 7
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_cancelled_sleeps_do_not_block() -> None:
    clock = ManualClock(START)
    woke: list[tuple[str, float]] = []
    cancelled = asyncio.create_task(_sleeper(clock, 1, "cancelled", woke))
    kept = asyncio.create_task(_sleeper(clock, 2, "kept", woke))
    await clock.settle()
    assert clock.sleepers == 2

    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert clock.sleepers == 1

    await asyncio.wait_for(clock.advance(5), timeout=5)
    assert woke == [("kept", START + 2)]
    await kept


async def test_sleep_of_zero_or_less_returns_at_once() -> None:
    clock = ManualClock(START)
    await asyncio.wait_for(clock.sleep(0), timeout=1)
    await asyncio.wait_for(clock.sleep(-3), timeout=1)
    assert clock.now() == START
    assert clock.sleepers == 0


async def test_time_does_not_go_backwards() -> None:
    clock = ManualClock(START)
    with pytest.raises(ValueError, match="backwards"):
        await clock.advance(-1)
    assert clock.now() == START


async def test_advance_without_sleepers_moves_time() -> None:
    clock = ManualClock()
    before = clock.now()
    await clock.advance(90)
    assert clock.now() == before + 90
    assert clock.monotonic() == 90


@pytest.mark.parametrize(
    ("start", "expected"),
    [(START, 1_700_000_000_000), (1.5, 1500), (0.0, 0), (START + 0.25, 1_700_000_000_250)],
)
def test_now_ms(start: float, expected: int) -> None:
    assert now_ms(ManualClock(start)) == expected


def test_clocks_satisfy_the_protocol() -> None:
    clocks: list[Clock] = [SystemClock(), ScaledClock(START), ManualClock()]
    assert len(clocks) == 3


def test_system_clock_is_the_wall_clock() -> None:
    clock = SystemClock()
    before = time.time()
    now = clock.now()
    assert before <= now <= time.time()
    assert abs(now_ms(clock) - time.time() * 1000) < 1000


async def test_system_clock_sleeps_for_real() -> None:
    clock = SystemClock()
    t0 = clock.monotonic()
    await clock.sleep(0.02)
    assert clock.monotonic() - t0 >= 0.015
    await clock.sleep(-1)  # a negative sleep is no sleep, not an error


def test_scaled_clock_starts_at_its_start() -> None:
    clock = ScaledClock(START, speed=60)
    assert START <= clock.now() < START + 60  # less than a real second has passed
    assert 0 <= clock.monotonic() < 60


async def test_scaled_clock_runs_faster() -> None:
    clock = ScaledClock(START, speed=1000)
    r1 = time.monotonic()
    v1 = clock.now()
    r2 = time.monotonic()
    await asyncio.sleep(0.05)
    r3 = time.monotonic()
    v2 = clock.now()
    r4 = time.monotonic()
    # The virtual interval lies between the inner and outer real intervals, times the speed.
    assert (r3 - r2) * 1000 <= v2 - v1 <= (r4 - r1) * 1000
    assert v2 - v1 >= 0.05 * 1000 * 0.9


async def test_scaled_clock_sleeps_shorter() -> None:
    clock = ScaledClock(START, speed=1000)
    real0, virtual0 = time.monotonic(), clock.monotonic()
    await clock.sleep(30)  # 30 virtual seconds: 30 ms of real time
    real = time.monotonic() - real0
    assert 0.025 <= real < 3
    assert clock.monotonic() - virtual0 >= 30 * 0.9


async def test_a_paused_scaled_clock_holds_time_and_sleepers_until_resumed() -> None:
    clock = ScaledClock(START, speed=1000, paused=True)
    sleeper = asyncio.ensure_future(clock.sleep(10))  # 10 ms of real time once running
    await asyncio.sleep(0.05)  # five times that, paused
    assert (clock.now(), clock.monotonic()) == (START, 0.0)
    assert not sleeper.done()
    clock.resume()
    await asyncio.wait_for(sleeper, 3)
    assert clock.now() >= START + 10 * 0.9
    clock.resume()  # resuming a running clock changes nothing
    assert clock.now() >= START + 10 * 0.9


@pytest.mark.parametrize("speed", [0, -1])
def test_scaled_clock_needs_a_positive_speed(speed: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        ScaledClock(START, speed)


class _SteppedClock(ManualClock):
    """A manual clock that another task moved on in the same turn of the loop (what
    ``ManualClock.advance`` does between its settling rounds)."""

    def jump(self, seconds: float) -> None:
        self._now += seconds


async def test_a_timer_keeps_the_deadline_it_was_made_with() -> None:
    clock = _SteppedClock(start=0)
    event = asyncio.Event()
    waiting = asyncio.ensure_future(wait_event(clock, event, 10))
    await asyncio.sleep(0)  # wait_event has made its timer; the timer's task has not run yet
    clock.jump(3)
    await clock.advance(7)  # t = 10: the deadline wait_event was called with
    assert waiting.done()
    assert waiting.result() is False


async def test_a_timer_made_before_the_clock_moves_ends_at_its_deadline() -> None:
    clock = _SteppedClock(start=0)
    t = timer(clock, 5)
    clock.jump(2)
    await clock.advance(2)
    assert not t.done()
    await clock.advance(1)
    assert t.done()
    assert clock.now() == 5
