"""Batched ``Confirm`` and ``Resend`` commands to gateways.

The intake confirms every stored sequence number one by one; gateways would drown in one
command per message. The confirmer merges what accumulates into ranges per (gateway, boot,
channel) and, every ``interval_s`` on the injected clock, publishes one ``Confirm`` per key (and
one ``Resend`` per key the sequence tracker asked for), split when a key has more than
``max_ranges`` ranges. A confirm leaves the accumulator only when its publish returned: when the
broker is down the ranges wait for the next round and the failure is counted. Confirms go
before resends, and a number confirmed is no longer asked for. Leaving the context flushes once
more; what still fails then is re-sent by the gateways and confirmed again by the next hub.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hub.ingest.ranges import SeqRanges
from hub.ingest.sequence import ResendRequest
from streetwatch.clock import Clock, now_ms
from streetwatch.component import Component
from streetwatch.ids import check_slug
from streetwatch.messages import Confirm, Resend

log = logging.getLogger(__name__)

MAX_RANGES = 1000  # what one Confirm may carry


@dataclass(frozen=True, slots=True)
class GatewayAddress:
    """Where a gateway listens for commands: ``.../{district}/{street}/{gateway}/cmd/...``."""

    district: str
    street: str
    gateway: str

    def __post_init__(self) -> None:
        check_slug(self.district, "district")
        check_slug(self.street, "street")
        check_slug(self.gateway, "gateway")


@dataclass(frozen=True, slots=True)
class ConfirmerStats:
    confirms_sent: int
    resends_sent: int
    ranges_pending: int
    publish_failures: int


Publish = Callable[[GatewayAddress, Confirm | Resend], Awaitable[None]]
_Key = tuple[GatewayAddress, str, str]  # where, boot, channel


class Confirmer(Component):
    def __init__(
        self,
        publish: Publish,
        *,
        clock: Clock,
        interval_s: float = 1.0,
        max_ranges: int = MAX_RANGES,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        if not 1 <= max_ranges <= MAX_RANGES:
            raise ValueError(f"max_ranges must be within 1..{MAX_RANGES}")
        self._publish = publish
        self.clock = clock
        self.interval_s = interval_s
        self.max_ranges = max_ranges
        self._confirms: dict[_Key, SeqRanges] = {}
        self._resends: dict[_Key, SeqRanges] = {}
        self._flushing = asyncio.Lock()
        self._sent = {Confirm: 0, Resend: 0}
        self._failures = 0

    # -- accumulating ---------------------------------------------------------------------

    def confirm(
        self, where: GatewayAddress, boot: str, channel: str, first: int, last: int | None = None
    ) -> None:
        """The hub stored (or gave up on) ``first..last`` of this boot and channel."""
        last = first if last is None else last
        key = (where, boot, channel)
        pending = self._confirms.get(key)
        if pending is None:
            _check(Confirm, boot, channel, first, last)
            pending = self._confirms[key] = SeqRanges()
        pending.add_range(first, last)
        asked = self._resends.get(key)
        if asked is not None and asked.discard_range(first, last) and not asked:
            del self._resends[key]

    def resend(self, where: GatewayAddress, request: ResendRequest) -> None:
        """Ask the gateway for the ranges of ``request`` again."""
        key = (where, request.boot, request.channel)
        pending = self._resends.get(key)
        if pending is None:
            _check(Resend, request.boot, request.channel, *request.ranges[0])
            pending = self._resends[key] = SeqRanges()
        for first, last in request.ranges:
            pending.add_range(first, last)

    # -- publishing -----------------------------------------------------------------------

    async def start(self) -> None:
        self.spawn(self._loop(), "flush")

    async def stop(self) -> None:
        await self.flush()

    async def flush(self) -> None:
        """Publish everything accumulated, now; what fails stays for the next round."""
        async with self._flushing:
            failed = await self._send(Confirm, self._confirms)
            failed += await self._send(Resend, self._resends)
        if failed:
            self._failures += len(failed)
            log.warning(
                "%d command(s) not published (%s), kept for the next round",
                len(failed),
                failed[0],
            )

    def stats(self) -> ConfirmerStats:
        return ConfirmerStats(
            confirms_sent=self._sent[Confirm],
            resends_sent=self._sent[Resend],
            ranges_pending=sum(
                len(r.ranges()) for book in (self._confirms, self._resends) for r in book.values()
            ),
            publish_failures=self._failures,
        )

    async def _loop(self) -> None:
        while True:
            await self.clock.sleep(self.interval_s)
            await self.flush()

    async def _send(self, kind: type[Confirm], book: dict[_Key, SeqRanges]) -> list[str]:
        failed: list[str] = []
        for key in list(book):
            where, boot, channel = key
            ranges = book[key].ranges()
            for at in range(0, len(ranges), self.max_ranges):
                chunk = ranges[at : at + self.max_ranges]
                command = kind(t=now_ms(self.clock), boot=boot, channel=channel, ranges=chunk)
                try:
                    await self._publish(where, command)
                except Exception as exc:  # the broker is down: keep it for the next round
                    failed.append(f"{kind.__name__} to {where.gateway}: {exc!r}")
                    break
                self._sent[kind] += 1
                pending = book.get(key)
                if pending is not None:  # may have been emptied by a confirm meanwhile
                    for first, last in chunk:
                        pending.discard_range(first, last)
                    if not pending:
                        del book[key]
        return failed


def _check(kind: type[Confirm], boot: str, channel: str, first: int, last: int) -> None:
    """Refuse what could never be published (a caller's bug) now, not in the flush loop."""
    kind(t=0, boot=boot, channel=channel, ranges=((first, last),))
