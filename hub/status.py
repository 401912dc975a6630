"""Each street's current picture in the time series (``street_status``), for maps and wallboards.

A Grafana map asks for ``last()`` of every street over its time range, so every street needs a
recent point whether or not anything happened there. ``StreetStatus`` writes every street it
knows (the city's streets this hub owns, the streets of the gateways it has registered and of
its incidents) every ``metrics.status_interval_s`` on the hub's clock, starting at once; and a
street whose picture changed (its incidents, a gateway of it online or offline, an area outage
of it declared or restored) ``change_delay_s`` after the change, so that a burst of changes (a
broker restart: every gateway born again) is written once.

It reads the incident board, presence, the registry and the city; the board and presence tell
it which street changed through their ``street_changes`` hooks (``watch``)::

    async with StreetStatus(...) as status:
        board.street_changes.append(status.watch)
        presence.street_changes.append(status.watch)
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence

from hub.city import CityConfig
from hub.incidents.board import IncidentBoard, StreetKey
from hub.incidents.model import IncidentState
from hub.presence.tracker import PresenceTracker
from hub.registry import GatewayRecord, GatewayRegistry
from hub.storage.base import Point
from hub.storage.hub_points import StreetPicture, street_status_points
from hub.storage.schema import mean_position
from streetwatch.clock import Clock, now_ms
from streetwatch.component import Component
from streetwatch.location import Coordinates
from streetwatch.topics import Scope

__all__ = ["CHANGE_DELAY_S", "StreetStatus", "owned_streets"]

CHANGE_DELAY_S = 1.0
Write = Callable[[Sequence[Point]], Awaitable[None]]


def owned_streets(city: CityConfig, scopes: Sequence[Scope]) -> list[StreetKey]:
    """The city's streets inside the hub's shards (``mqtt.shards``), in file order."""
    return [
        (d.id, s.id)
        for d in city.districts
        for s in d.streets
        if any(sc.district in (None, d.id) and sc.street in (None, s.id) for sc in scopes)
    ]


def gateway_position(record: GatewayRecord) -> Coordinates | None:
    """The mean of the coordinates its birth gave its sensors."""
    return mean_position(s.placement.coordinates for s in record.sensors.values())


class StreetStatus(Component):
    def __init__(
        self,
        *,
        city: CityConfig,
        streets: Sequence[StreetKey],
        registry: GatewayRegistry,
        presence: PresenceTracker,
        board: IncidentBoard,
        write: Write,
        clock: Clock,
        interval_s: float,
        change_delay_s: float = CHANGE_DELAY_S,
    ) -> None:
        self._city, self._streets = city, tuple(streets)
        self._registry, self._presence, self._board = registry, presence, board
        self._write, self._clock = write, clock
        self._interval_s, self._change_delay_s = interval_s, change_delay_s
        self._changed: set[StreetKey] = set()
        self._wake = asyncio.Event()

    async def start(self) -> None:
        self.spawn(self._every_interval(), "every_interval")
        self.spawn(self._after_changes(), "after_changes")

    def watch(self, district: str, street: str) -> None:
        """The street's picture changed: write it soon (a ``street_changes`` hook)."""
        self._changed.add((district, street))
        self._wake.set()

    def known_streets(self) -> list[StreetKey]:
        registered = {(r.area.district, r.area.street) for r in self._registry.records()}
        return sorted({*self._streets, *registered, *self._board.streets()})

    def pictures(self, keys: Iterable[StreetKey]) -> list[StreetPicture]:
        gateways: dict[StreetKey, list[GatewayRecord]] = {}
        for record in self._registry.records():
            gateways.setdefault((record.area.district, record.area.street), []).append(record)
        cut_off = {(o.district, o.street) for o in self._presence.areas_out()}
        return [self._picture(k, gateways.get(k, []), k in cut_off) for k in keys]

    def _picture(
        self, key: StreetKey, gateways: list[GatewayRecord], cut_off: bool
    ) -> StreetPicture:
        active = [i for i in self._board.incidents(key) if i.active]
        street = self._city.street(*key)
        position = street.coordinates if street is not None else None
        if position is None:
            position = mean_position(map(gateway_position, gateways))
        return StreetPicture(
            district=key[0],
            street=key[1],
            open_by_level=Counter(i.level for i in active),
            unacknowledged=sum(1 for i in active if i.state is IncidentState.OPEN and not i.muted),
            gateways_online=sum(1 for g in gateways if self._presence.is_online(g.gateway)),
            gateways_total=len(gateways),
            cut_off=cut_off,
            position=position,
        )

    async def _every_interval(self) -> None:
        while True:
            await self._write_streets(self.known_streets())
            await self._clock.sleep(self._interval_s)

    async def _after_changes(self) -> None:
        while True:
            await self._wake.wait()
            await self._clock.sleep(self._change_delay_s)
            self._wake.clear()
            changed, self._changed = sorted(self._changed), set()
            await self._write_streets(changed)

    async def _write_streets(self, keys: Sequence[StreetKey]) -> None:
        if not keys:
            return
        t = now_ms(self._clock)
        await self._write([p for pic in self.pictures(keys) for p in street_status_points(pic, t)])
