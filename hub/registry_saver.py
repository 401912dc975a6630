"""Writing the gateway registry off the event loop, one write for any number of changes.

Every accepted birth that changes a record used to rewrite and fsync the whole registry file on
the event loop. After a power cut a street's gateways all come back at once, each with a new
boot, and an alarm that arrived behind them waited for every one of those writes
(``bench/bench_registry.py``: 280 re-registrations held the loop 18 s; in a scratch run of the
alarm bench an alarm waited 9.7 s). The saver takes the writes: a change
marks the registry dirty and wakes it; it snapshots the records on the loop (a list of frozen
records) and writes them in a worker thread. Changes made while a write runs are written by the
next one, so a burst of births costs two writes, not one per birth.

What this costs: a hub killed before the write loses the newest registrations. They come back
with the gateways' births, which the broker retains and delivers again when the hub resubscribes.
A write that fails (disk full, permissions) is logged and tried again ``retry_s`` later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from hub.registry import GatewayRegistry
from streetwatch.clock import Clock
from streetwatch.component import Component

log = logging.getLogger(__name__)


class RegistrySaver(Component):
    def __init__(self, registry: GatewayRegistry, *, clock: Clock, retry_s: float = 30.0) -> None:
        self.registry = registry
        self.clock = clock
        self.retry_s = retry_s
        self._wake = asyncio.Event()
        self._writing = asyncio.Lock()

    async def start(self) -> None:
        self.registry.defer_saves(self._wake.set)
        if self.registry.dirty:
            self._wake.set()
        self.spawn(self._run(), "save")

    async def stop(self) -> None:
        with contextlib.suppress(OSError):  # logged; the births will bring them back
            await self.save()  # whatever changed since the last write

    async def save(self) -> None:
        """Write the registry now if it changed (waits for a write in progress first)."""
        async with self._writing:
            if not self.registry.dirty:
                return
            records = self.registry.snapshot()
            try:
                await asyncio.to_thread(self.registry.write, records)
            except OSError as exc:
                self.registry.dirty = True
                log.error(
                    "cannot write the gateway registry (%s); registrations are kept in memory "
                    "and written again in %.0f s",
                    exc,
                    self.retry_s,
                )
                raise

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.save()
            except OSError:
                await self.clock.sleep(self.retry_s)
                self._wake.set()
