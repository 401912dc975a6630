"""The streets' pictures (``street_status``): every street every interval, a changed street soon
after the change, with the right counts; on a manual clock, with the real board, presence
tracker and registry."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from hub.city import CityConfig
from hub.events import HubEvent, HubEventType
from hub.incidents.board import IncidentBoard
from hub.incidents.model import Incident, IncidentScope, IncidentState
from hub.presence.config import PresenceConfig
from hub.presence.tracker import PresenceTracker
from hub.registry import GatewayRegistry, Registered
from hub.status import StreetStatus, owned_streets
from hub.storage.base import FieldValue, Point
from streetwatch.anomalies import Hazard
from streetwatch.clock import ManualClock, now_ms
from streetwatch.kinds import KindName
from streetwatch.levels import Level
from streetwatch.location import Area, Coordinates, Placement
from streetwatch.messages import GatewayState, SensorInfo
from streetwatch.topics import Scope, TopicTree

INTERVAL_S = 60
HUAMU = ("pudong", "huamu")
YANGJING = ("pudong", "yangjing")
CITY = CityConfig.model_validate(
    {
        "districts": [
            {
                "id": "pudong",
                "zh": "浦东新区",
                "en": "Pudong",
                "streets": [
                    {
                        "id": "huamu",
                        "zh": "花木街道",
                        "en": "Huamu",
                        "coordinates": {"lat": 31.214, "lon": 121.556},
                        "communities": [{"id": "lianyang", "zh": "联洋社区", "en": "Lianyang"}],
                    },
                    {  # no coordinates: its gateways place it
                        "id": "yangjing",
                        "zh": "洋泾街道",
                        "en": "Yangjing",
                        "communities": [{"id": "juquan", "zh": "居泉社区", "en": "Juquan"}],
                    },
                ],
            },
            {
                "id": "jingan",
                "zh": "静安区",
                "en": "Jing'an",
                "streets": [{"id": "nanjingxi", "zh": "南京西路街道", "en": "Nanjing Xi"}],
            },
        ]
    }
)


async def no_publish(topic: str, payload: bytes) -> None:
    """The board's retained topic is not what these tests look at."""


@dataclass
class Street:
    """The world of one test: a clock, the real board and presence, and what got written."""

    clock: ManualClock
    registry: GatewayRegistry
    presence: PresenceTracker
    board: IncidentBoard
    written: list[Point] = field(default_factory=list)
    events: list[HubEvent] = field(default_factory=list)
    taken: int = 0

    async def write(self, points: Sequence[Point]) -> None:
        self.written.extend(points)

    def take(self) -> list[Point]:
        """Points written since the last ``take``."""
        new, self.taken = self.written[self.taken :], len(self.written)
        return new

    def fields(self, key: tuple[str, str]) -> dict[str, FieldValue]:
        """The latest point of a street."""
        tags = (("district", key[0]), ("street", key[1]))
        return dict([p for p in self.written if p.tags == tags][-1].fields)

    def now(self) -> int:
        return now_ms(self.clock)

    def born(self, gateway: str, area: Area, *positions: Coordinates) -> None:
        sensors = tuple(
            SensorInfo(
                id=f"{gateway}-s{i}",
                kind=KindName.WATER_LEVEL,
                placement=Placement(coordinates=where),
                report_interval_s=60,
                offline_after_s=300,
            )
            for i, where in enumerate(positions)
        )
        state = GatewayState(
            gateway=gateway,
            area=area,
            online=True,
            boot="b0000001",
            t=self.now(),
            sensors=sensors,
            health_interval_s=10,
        )
        result = self.registry.register(area.district, area.street, gateway, state, self.now())
        assert isinstance(result, Registered), result
        self.presence.birth(gateway, "b0000001", self.now())

    def died(self, gateway: str) -> None:
        self.presence.death(gateway, "b0000001", self.now())

    async def changed(self, incident: Incident) -> None:
        await self.board.changed(incident, self.now())


@asynccontextmanager
async def street_status(scopes: Sequence[Scope] = (Scope(),)) -> AsyncIterator[Street]:
    clock = ManualClock()
    registry = GatewayRegistry(CITY, None).open()
    world = Street(
        clock,
        registry,
        PresenceTracker(PresenceConfig(), registry, emit=lambda e: world.events.append(e)),
        IncidentBoard(TopicTree(), no_publish),
    )
    status = StreetStatus(
        city=CITY,
        streets=owned_streets(CITY, scopes),
        registry=registry,
        presence=world.presence,
        board=world.board,
        write=world.write,
        clock=clock,
        interval_s=INTERVAL_S,
    )
    async with status:
        world.presence.street_changes.append(status.watch)
        world.board.street_changes.append(status.watch)
        await clock.settle()
        yield world
    assert clock.sleepers == 0  # its tasks are gone


def flood(
    id: str,
    level: Level,
    *,
    street: str = "huamu",
    state: IncidentState = IncidentState.OPEN,
    muted: bool = False,
) -> Incident:
    return Incident(
        id=id,
        key=f"k-{id}",
        hazard=Hazard.FLOOD,
        district="pudong",
        street=street,
        level=level,
        state=state,
        muted=muted,
        opened_at=0,
        updated_at=0,
        streets=(street,),
    )


def streets(points: list[Point]) -> list[tuple[str, ...]]:
    return [tuple(v for _, v in p.tags) for p in points]


async def test_every_street_at_the_start_and_every_interval_after() -> None:
    async with street_status() as w:
        start = w.now()
        first = w.take()
        assert streets(first) == [("jingan", "nanjingxi"), HUAMU, YANGJING]
        assert {p.time_ms for p in first} == {start}
        assert w.fields(HUAMU) == {
            "severity": 0,
            "level": "none",
            "open_incidents": 0,
            "open_blue": 0,
            "open_yellow": 0,
            "open_orange": 0,
            "open_red": 0,
            "unacknowledged": 0,
            "gateways_online": 0,
            "gateways_total": 0,
            "cut_off": False,
            "lat": 31.214,
            "lon": 121.556,
        }
        assert "lat" not in w.fields(YANGJING)  # no coordinates, no gateways yet
        await w.clock.advance(INTERVAL_S - 1)
        assert w.take() == []
        await w.clock.advance(1)
        again = w.take()
        assert streets(again) == streets(first)
        assert {p.time_ms for p in again} == {start + INTERVAL_S * 1000}


async def test_only_the_streets_of_its_shards_and_those_it_has_seen() -> None:
    async with street_status([Scope("pudong", "huamu")]) as w:
        assert streets(w.take()) == [HUAMU]
        await w.changed(flood("f", Level.BLUE, street="yangjing"))  # an incident seen there
        await w.clock.advance(1)
        assert streets(w.take()) == [YANGJING]
        await w.clock.advance(INTERVAL_S - 1)
        assert streets(w.take()) == [HUAMU, YANGJING]


async def test_a_changed_street_is_written_a_second_after_its_change() -> None:
    async with street_status() as w:
        w.take()
        await w.changed(flood("a", Level.YELLOW))
        await w.changed(flood("b", Level.RED))
        await w.clock.advance(0.5)
        assert w.take() == []
        await w.clock.advance(0.5)
        (point,) = w.take()  # two changes, one point, of that street only
        assert point.time_ms == w.now()
        assert streets([point]) == [HUAMU]
        got = w.fields(HUAMU)
        assert (got["severity"], got["level"], got["open_incidents"]) == (4, "red", 2)
        assert (got["open_yellow"], got["open_red"], got["unacknowledged"]) == (1, 1, 2)


async def test_counts_follow_acknowledgement_muting_and_resolution() -> None:
    async with street_status() as w:
        await w.changed(flood("a", Level.RED, state=IncidentState.ACKNOWLEDGED))
        await w.changed(flood("b", Level.ORANGE, muted=True))
        await w.changed(flood("c", Level.BLUE))
        await w.clock.advance(1)
        got = w.fields(HUAMU)
        assert got["severity"] == 4  # acknowledged still counts: it is not over
        assert (got["open_red"], got["open_orange"], got["open_blue"]) == (1, 1, 1)
        assert got["unacknowledged"] == 1  # c: a is acknowledged, b is muted
        await w.changed(flood("a", Level.RED, state=IncidentState.RESOLVED))
        await w.changed(flood("c", Level.BLUE, state=IncidentState.CLOSED))
        await w.clock.advance(1)
        got = w.fields(HUAMU)
        assert (got["severity"], got["level"], got["open_incidents"]) == (3, "orange", 1)
        assert (got["open_red"], got["unacknowledged"]) == (0, 0)


async def test_a_district_incident_counts_on_every_street_it_spans() -> None:
    async with street_status() as w:
        w.take()
        wide = flood("d", Level.ORANGE).model_copy(
            update={
                "scope": IncidentScope.DISTRICT,
                "street": None,
                "streets": HUAMU[1:] + YANGJING[1:],
            }
        )
        await w.changed(wide)
        await w.clock.advance(1)
        assert streets(w.take()) == [HUAMU, YANGJING]
        assert w.fields(HUAMU)["open_orange"] == 1
        assert w.fields(YANGJING)["severity"] == 3


async def test_gateways_online_and_a_street_placed_by_its_gateways() -> None:
    async with street_status() as w:
        area = Area(district="pudong", street="yangjing", community="juquan")
        w.born("gw-1", area, Coordinates(lat=31.0, lon=121.0), Coordinates(lat=31.2, lon=121.2))
        w.born("gw-2", area, Coordinates(lat=31.3, lon=121.3))
        w.born("gw-3", area)  # no coordinates: counts, but places nothing
        w.take()
        await w.clock.advance(1)
        assert streets(w.take()) == [YANGJING]
        got = w.fields(YANGJING)
        assert (got["gateways_online"], got["gateways_total"]) == (3, 3)
        # the mean of the gateways' means: (31.1, 121.1) and (31.3, 121.3)
        assert round(float(got["lat"]), 6) == 31.2
        assert round(float(got["lon"]), 6) == 121.2
        w.died("gw-2")
        await w.clock.advance(1)
        assert streets(w.take()) == [YANGJING]
        assert w.fields(YANGJING)["gateways_online"] == 2
        w.born("gw-2", area, Coordinates(lat=31.3, lon=121.3))
        await w.clock.advance(1)
        assert w.fields(YANGJING)["gateways_online"] == 3


async def test_cut_off_while_an_area_outage_of_the_street_is_active() -> None:
    async with street_status() as w:
        area = Area(district="pudong", street="huamu", community="lianyang")
        for g in ("gw-1", "gw-2", "gw-3"):
            w.born(g, area)
        for g in ("gw-1", "gw-2", "gw-3"):
            w.died(g)
        await w.clock.advance(1)
        got = w.fields(HUAMU)
        assert (got["gateways_online"], got["cut_off"]) == (0, False)  # not yet an outage
        hold_s = PresenceConfig().hold_s
        await w.clock.advance(hold_s)
        w.presence.tick(w.now())
        assert [e.type for e in w.events] == [HubEventType.AREA_OUTAGE]
        w.take()
        await w.clock.advance(1)
        assert streets(w.take()) == [HUAMU]
        assert w.fields(HUAMU)["cut_off"] is True
        await w.clock.advance(INTERVAL_S)  # and it stays so in the periodic pictures
        assert w.fields(HUAMU)["cut_off"] is True
        for g in ("gw-1", "gw-2", "gw-3"):
            w.born(g, area)
        w.presence.tick(w.now())
        assert w.events[-1].type is HubEventType.AREA_RESTORED
        await w.clock.advance(1)
        got = w.fields(HUAMU)
        assert (got["gateways_online"], got["cut_off"]) == (3, False)
