"""The seeded generator: the same city for the same arguments, bit for bit.

Names come from a small syllable table (花木街道, Huamu); WGS-84 coordinates sit on nested grids
around a centre (communities ~400 m apart, sensors within ~170 m of theirs); buildings have
floors; sensors stand at risk points that fit their kind, each in the ecosystem usual there.
"""

from __future__ import annotations

import math
import random
import re
import uuid
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from simulators.city.model import (
    SimBuilding,
    SimCity,
    SimCommunity,
    SimDistrict,
    SimGateway,
    SimSensor,
    SimSource,
    SimStreet,
)
from streetwatch.kinds import Ecosystem, KindName
from streetwatch.location import Area, Coordinates, RiskPoint
from streetwatch.topics import DEFAULT_BASES

T = TypeVar("T")
SHANGHAI = Coordinates(lat=31.23, lon=121.47)
COMMUNITY_SPACING_M = 400.0
_M_PER_DEG = 111_320.0
_SYLLABLES: tuple[tuple[str, str], ...] = tuple(
    re.findall(
        r"([a-z]+)([^a-z])",
        "hua花mu木yang洋jing泾lian联dong东ming明jin金quan泉xin新ping平he和chang长shou寿tang塘"
        "qiao桥hong虹mei梅lin林bao宝shan山fu福xing兴kang康ning宁feng枫jiang江pu浦tian天yue月hu湖"
        "song松",
    )
)
K = KindName
MIXES: Mapping[str, Mapping[KindName, int]] = MappingProxyType(
    {
        "residential": {K.SMOKE: 6, K.GAS: 3, K.WATER_LEVEL: 1, K.HYDRANT: 1, K.POWER: 1},
        "street": {K.WATER_LEVEL: 3, K.HYDRANT: 3, K.MANHOLE_COVER: 3, K.GAS: 1, K.POWER: 1},
        "mixed": {K.SMOKE: 3, K.GAS: 2, K.WATER_LEVEL: 2, K.HYDRANT: 2, K.MANHOLE_COVER: 1},
    }
)
"""Named sensor mixes per gateway, for ``generate_city(sensors_per_gateway=...)``."""

E, R = Ecosystem, RiskPoint
# Zigbee indoors, LoRaWAN on the street, NB-IoT through a JSON bridge, Tasmota where wired.
_ECOSYSTEMS: dict[KindName | RiskPoint, tuple[tuple[Ecosystem, int], ...]] = {
    K.SMOKE: ((E.ZIGBEE2MQTT, 8), (E.JSON, 2)),
    R.KITCHEN: ((E.ZIGBEE2MQTT, 8), (E.TASMOTA, 1), (E.JSON, 1)),
    R.PIPE_WELL: ((E.CHIRPSTACK, 1), (E.JSON, 1)),
    K.WATER_LEVEL: ((E.CHIRPSTACK, 7), (E.TASMOTA, 2), (E.JSON, 1)),
    K.HYDRANT: ((E.CHIRPSTACK, 8), (E.JSON, 2)),
    K.MANHOLE_COVER: ((E.CHIRPSTACK, 8), (E.JSON, 2)),
    K.POWER: ((E.TASMOTA, 1),),
}
_RISKS: dict[KindName, tuple[tuple[RiskPoint, int], ...]] = {
    K.WATER_LEVEL: ((R.UNDERPASS, 2), (R.UNDERGROUND_GARAGE, 5), (R.LOW_LYING_ROAD, 3)),
    K.GAS: ((R.KITCHEN, 3), (R.PIPE_WELL, 1)),
    K.HYDRANT: ((R.STREET, 1),),
    K.MANHOLE_COVER: ((R.STREET, 1),),
}
_SHORT = {K.WATER_LEVEL: "water", K.MANHOLE_COVER: "manhole"}


class _Builder:
    def __init__(self, seed: int, centre: Coordinates, shared_broker: bool) -> None:
        self.rng = random.Random(seed)
        self.centre = centre
        self.shared = shared_broker
        self.used: set[str] = set()
        self.devices = 0

    def name(self) -> tuple[str, str, str]:
        """A fresh (id, 汉字 stem, English stem); longer names once short ones are taken."""
        attempt = 0
        while True:
            picks = [self.rng.choice(_SYLLABLES) for _ in range(2 + attempt // 40)]
            ident = "".join(p for p, _ in picks)
            attempt += 1
            if ident not in self.used:
                self.used.add(ident)
                return ident, "".join(h for _, h in picks), ident.capitalize()

    def near(self, base: Coordinates, dx: float, dy: float, jitter: float = 0) -> Coordinates:
        dx += self.rng.uniform(-jitter, jitter)
        dy += self.rng.uniform(-jitter, jitter)
        lon = base.lon + dx / (_M_PER_DEG * math.cos(math.radians(base.lat)))
        return Coordinates(lat=round(base.lat + dy / _M_PER_DEG, 6), lon=round(lon, 6))

    def pick(self, weighted: tuple[tuple[T, int], ...]) -> T:
        return self.rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]

    def source(self, gateway: str, sensor: str, eco: Ecosystem, app: str) -> SimSource:
        self.devices += 1
        base = f"{gateway}/{DEFAULT_BASES[eco]}" if self.shared and eco is not E.JSON else None
        device = {
            E.ZIGBEE2MQTT: f"{gateway}/{sensor}",
            E.CHIRPSTACK: f"{app}:a84041{self.devices:010x}",
            E.TASMOTA: sensor,
            E.JSON: f"nbiot/{sensor}/up",
        }[eco]
        return SimSource(eco, device, base)

    def sensor(
        self,
        gw: str,
        sid: str,
        kind: KindName,
        where: Coordinates,
        app: str,
        houses: list[Any],
        risk: RiskPoint | None = None,
    ) -> SimSensor:
        if risk is None and kind in _RISKS:
            risk = self.pick(_RISKS[kind])
        building = floor = None
        if kind is K.SMOKE or risk in (R.KITCHEN, R.UNDERGROUND_GARAGE):
            house: SimBuilding = self.rng.choice(houses)
            building, where = house.id, self.near(house.coordinates, 0, 0, 8)
            floor = -1 if risk is R.UNDERGROUND_GARAGE else self.rng.randint(1, house.floors)
            risk = risk or house.risk_point
        elif kind is not K.POWER:
            where = self.near(where, 0, 0, 170)
        eco = self.pick(
            _ECOSYSTEMS[risk] if risk in (R.KITCHEN, R.PIPE_WELL) else _ECOSYSTEMS[kind]
        )
        return SimSensor(sid, kind, self.source(gw, sid, eco, app), where, risk, building, floor)


def _offset(n: int, i: int, cell: float) -> tuple[float, float]:
    """Metres east and north of cell ``i`` of ``n`` on a centred square grid."""
    side = math.ceil(math.sqrt(n))
    row, col = divmod(i, side)
    return (col - (side - 1) / 2) * cell, ((side - 1) / 2 - row) * cell


def generate_city(
    seed: int,
    districts: int = 2,
    streets_per_district: int = 3,
    communities_per_street: int = 4,
    gateways_per_community: int = 1,
    sensors_per_gateway: Mapping[KindName, int] | str = "residential",
    *,
    centre: Coordinates = SHANGHAI,
    shared_broker: bool = False,
) -> SimCity:
    """A reproducible city. ``sensors_per_gateway``: kind → count, or a name in ``MIXES``.

    ``shared_broker``: every gateway's devices publish under ``<gateway id>/`` base topics, so
    that one local broker can serve all the gateways of a simulation without cross-talk.
    """
    sizes = (districts, streets_per_district, communities_per_street, gateways_per_community)
    if min(sizes) < 1:
        raise ValueError(f"every count must be at least 1, got {sizes}")
    if isinstance(sensors_per_gateway, str):
        if sensors_per_gateway not in MIXES:
            raise ValueError(f"unknown mix {sensors_per_gateway!r}; known: {', '.join(MIXES)}")
        sensors_per_gateway = MIXES[sensors_per_gateway]
    mix = {KindName(k): n for k, n in sensors_per_gateway.items()}
    if any(n < 0 for n in mix.values()):
        raise ValueError(f"sensor counts cannot be negative: {mix}")
    b = _Builder(seed, centre, shared_broker)
    street_cell = math.ceil(math.sqrt(communities_per_street)) * COMMUNITY_SPACING_M + 200
    district_cell = math.ceil(math.sqrt(streets_per_district)) * street_cell + 400

    def community(street: Coordinates, i: int, d: str, s: str) -> SimCommunity:
        cid, zh, en = b.name()
        here = b.near(street, *_offset(communities_per_street, i, COMMUNITY_SPACING_M), 40)
        old = b.rng.random()  # the share of old walk-ups (老旧小区) in this community
        houses = []
        for n in range(b.rng.randint(4, 10)):
            high = b.rng.random() > old
            risk, floors = (
                (R.HIGH_RISE, b.rng.randint(18, 33))
                if high
                else (R.OLD_BUILDING, b.rng.randint(5, 7))
            )
            houses.append(SimBuilding(f"b{n + 1}", risk, floors, b.near(here, 0, 0, 120)))
        gateways, counts = [], dict.fromkeys(mix, 0)
        for g in range(gateways_per_community):
            gid, app = f"gw-{cid}-{g + 1:02d}", str(uuid.UUID(int=b.rng.getrandbits(128)))
            at, sensors = b.near(here, 0, 0, 60), []
            for kind, count in mix.items():
                for n in range(count):
                    counts[kind] += 1
                    sid = f"{cid}-{_SHORT.get(kind, kind.value)}-{counts[kind]:02d}"
                    where = at if kind is K.POWER else here
                    # A gateway with several gas detectors covers both risk points: one in a pipe
                    # well (管井, the utility's) and one in a kitchen (the residents').
                    several_gas = kind is K.GAS and count >= 2
                    at_risk = (R.PIPE_WELL, R.KITCHEN)[n] if several_gas and n < 2 else None
                    sensors.append(b.sensor(gid, sid, kind, where, app, houses, at_risk))
            area = Area(district=d, street=s, community=cid)
            gateways.append(SimGateway(gid, area, at, tuple(sensors)))
        return SimCommunity(cid, f"{zh}社区", en, here, tuple(houses), tuple(gateways))

    def street(district: Coordinates, i: int, d: str) -> SimStreet:
        sid, zh, en = b.name()
        here = b.near(district, *_offset(streets_per_district, i, street_cell))
        parts = tuple(community(here, c, d, sid) for c in range(communities_per_street))
        return SimStreet(sid, f"{zh}街道", en, here, parts)

    def district(i: int) -> SimDistrict:
        did, zh, en = b.name()
        here = b.near(centre, *_offset(districts, i, district_cell))
        parts = tuple(street(here, s, did) for s in range(streets_per_district))
        return SimDistrict(did, f"{zh}区", f"{en} District", here, parts)

    return SimCity(seed, centre, tuple(district(d) for d in range(districts)))
