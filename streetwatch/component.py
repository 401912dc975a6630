"""The shape of every long-lived StreetWatch component.

A component is an async context manager that owns one ``asyncio.TaskGroup`` of named tasks.
Its constructor does no I/O; ``start`` (called on entry) spawns its tasks and enters its
sub-components; leaving the context runs ``stop`` for anything graceful (say goodbye, flush),
cancels the tasks and waits for them, then closes the sub-components in reverse order. A task
that fails takes the component down with its exception instead of dying silently.

    async with EdgeAgent(config, clock=clock) as agent:
        await agent.wait_stopped()
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from types import TracebackType
from typing import Any, Self, TypeVar

T = TypeVar("T")


class Component:
    _tg: asyncio.TaskGroup | None = None
    _tasks: set[asyncio.Task[Any]]
    _stack: AsyncExitStack

    async def start(self) -> None:
        """Spawn the component's tasks (override)."""

    async def stop(self) -> None:
        """Graceful work before the tasks are cancelled (override)."""

    async def enter(self, context: AbstractAsyncContextManager[T]) -> T:
        """Enter a sub-component (or any async context) that closes after this one's tasks."""
        return await self._stack.enter_async_context(context)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        if self._tg is None:
            coro.close()
            raise RuntimeError(f"{type(self).__name__} is not running: use `async with`")
        task = self._tg.create_task(coro, name=f"{type(self).__name__}.{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def __aenter__(self) -> Self:
        self._tasks = set()
        self._stack = AsyncExitStack()
        self._tg = asyncio.TaskGroup()
        await self._tg.__aenter__()
        try:
            await self.start()
        except BaseException as exc:
            await self._close(type(exc), exc, exc.__traceback__)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        try:
            if exc is None:
                await self.stop()
        finally:
            await self._close(exc_type, exc, tb)
        return None

    async def _close(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        tg, self._tg = self._tg, None
        if tg is None:
            return
        for task in list(self._tasks):
            task.cancel()
        try:
            await tg.__aexit__(exc_type, exc, tb)
        finally:
            await self._stack.aclose()
