"""Hand what the hub learns (gateway events, its own presence events) to whoever listens.

The incidents engine subscribes here. Each subscriber has its own unbounded queue: an alarm is
never dropped because a listener was slow (the depth is reported instead).

A subscriber that must have *handled* an event before the hub stores it and confirms it to the
gateway subscribes ``joined``: it calls ``task_done`` on its queue for each item, and ``join``
waits for that. The incidents engine does: an event the gateway was told is stored, and so will
never send again, is one the engine has already turned into an incident (a hub killed between
the two would otherwise have stored an alarm that no incident, and no responder, ever saw).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

from streetwatch.location import Placement

T = TypeVar("T")


class Fanout(Generic[T]):
    def __init__(self) -> None:
        self._queues: list[asyncio.Queue[T]] = []
        self._joined: list[asyncio.Queue[T]] = []

    def publish(self, item: T) -> None:
        for queue in self._queues:
            queue.put_nowait(item)

    @asynccontextmanager
    async def subscribe(self, *, joined: bool = False) -> AsyncIterator[asyncio.Queue[T]]:
        """A queue that receives everything published while the context is open. ``joined``:
        the subscriber calls ``task_done`` once it has handled each item, and ``join`` waits
        for it."""
        queue: asyncio.Queue[T] = asyncio.Queue()
        self._queues.append(queue)
        if joined:
            self._joined.append(queue)
        try:
            yield queue
        finally:
            self._queues.remove(queue)
            if joined:
                self._joined.remove(queue)

    async def join(self) -> None:
        """Until every ``joined`` subscriber has handled everything published so far."""
        for queue in list(self._joined):
            await queue.join()

    @property
    def depth(self) -> int:
        """Items waiting in the slowest subscriber's queue."""
        return max((q.qsize() for q in self._queues), default=0)


@dataclass(frozen=True, slots=True)
class Located(Generic[T]):
    """A gateway's message with where it came from (community and placement included)."""

    district: str
    street: str
    community: str
    message: T
    placement: Placement | None = None  # of the sensor, from the gateway's birth
