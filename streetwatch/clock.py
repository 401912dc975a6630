"""Time as a parameter: every timer in StreetWatch asks a ``Clock``, never ``time`` directly.

* ``SystemClock``: the wall clock and ``asyncio.sleep``.
* ``ScaledClock``: virtual time running ``speed`` times faster than real time from a chosen
  start, shared by every component of a simulation run (a 60× rainstorm).
* ``ManualClock``: time moves only when a test calls ``advance``; sleepers wake in deadline
  order. Debounce, heartbeats, escalation timers and scenarios are tested with it, without
  sleeping and hoping.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch (possibly virtual)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards, for intervals."""
        ...

    async def sleep(self, seconds: float) -> None: ...


def now_ms(clock: Clock) -> int:
    """The clock's time in integer milliseconds, as on the wire."""
    return int(clock.now() * 1000)


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))


class ScaledClock:
    """Virtual time that starts at ``start`` and runs ``speed`` times faster than real time.

    ``paused=True`` holds the time at ``start`` (and every sleep with it) until ``resume()``, so
    that a whole simulation can start up (processes, connections) before its first second.
    """

    def __init__(self, start: float, speed: float = 1.0, *, paused: bool = False) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.start = start
        self.speed = speed
        self._t0 = time.monotonic()
        self._running = asyncio.Event()
        if not paused:
            self._running.set()

    def resume(self) -> None:
        """Let time run from ``start`` (no-op when it already runs)."""
        if not self._running.is_set():
            self._t0 = time.monotonic()
            self._running.set()

    def now(self) -> float:
        return self.start + self.monotonic()

    def monotonic(self) -> float:
        if not self._running.is_set():
            return 0.0
        return (time.monotonic() - self._t0) * self.speed

    async def sleep(self, seconds: float) -> None:
        if not self._running.is_set():
            await self._running.wait()
        await asyncio.sleep(max(seconds, 0.0) / self.speed)


class ManualClock:
    """A clock that moves only when told to; for tests and step-by-step replays."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._start = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._now - self._start

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), future))
        await future

    @property
    def sleepers(self) -> int:
        """How many sleeps are pending (cancelled ones excluded)."""
        return sum(1 for _, _, f in self._sleepers if not f.done())

    async def settle(self, rounds: int = 20) -> None:
        """Let every ready task run until it blocks again."""
        for _ in range(rounds):
            await asyncio.sleep(0)

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking each sleeper at its deadline, in order."""
        if seconds < 0:
            raise ValueError("time does not go backwards")
        target = self._now + seconds
        await self.settle()
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, future = heapq.heappop(self._sleepers)
            self._now = max(self._now, deadline)
            if not future.done():
                future.set_result(None)
                await self.settle()
        self._now = target
        await self.settle()


def timer(clock: Clock, seconds: float) -> asyncio.Task[None]:
    """A task that ends ``seconds`` from now on ``clock``, to race against other work.

    The deadline is fixed here, when the timer is made, not when its task first runs: by then
    another task may have moved a ``ManualClock`` on, and a plain ``ensure_future(clock.sleep(s))``
    would end ``s`` after that, late (an escalation round skipped by a test that advanced the
    clock while the escalator was still writing its audit entry)."""
    deadline = clock.monotonic() + seconds

    async def until_deadline() -> None:
        await clock.sleep(deadline - clock.monotonic())

    return asyncio.ensure_future(until_deadline())


async def wait_event(clock: Clock, event: asyncio.Event, timeout_s: float) -> bool:
    """Wait until ``event`` is set or ``timeout_s`` passes on ``clock``; True if it was set."""
    if event.is_set():
        return True
    waiter = asyncio.ensure_future(event.wait())
    sleeper = timer(clock, timeout_s)
    try:
        await asyncio.wait((waiter, sleeper), return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        sleeper.cancel()
    return event.is_set()
