"""Waiting for a condition in integration tests, with a deadline and a clear failure.

Used where a component exposes state but no event for it (a broker connection dropping, an
outbox emptying). It checks the condition itself, so a test never sleeps and hopes.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

Check = Callable[[], bool | Awaitable[bool]]


async def eventually(check: Check, *, within_s: float = 20.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + within_s
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within_s:g} s waiting for {what}")
        await asyncio.sleep(0.05)
