"""What a generated city is made of: frozen records from the city down to each sensor."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from streetwatch.kinds import Ecosystem, KindName
from streetwatch.location import Area, Coordinates, RiskPoint
from streetwatch.topics import DeviceTopic


@dataclass(frozen=True, slots=True)
class SimSource:
    """Where a device publishes on its gateway's local broker (as in gateway.yaml)."""

    ecosystem: Ecosystem
    device: str
    base_topic: str | None = None

    @property
    def topic(self) -> str:
        """The state topic a simulated device publishes on."""
        return DeviceTopic(self.ecosystem, self.device).build(self.base_topic)


@dataclass(frozen=True, slots=True)
class SimSensor:
    id: str
    kind: KindName
    source: SimSource
    coordinates: Coordinates
    risk_point: RiskPoint | None = None
    building: str | None = None
    floor: int | None = None


@dataclass(frozen=True, slots=True)
class SimBuilding:
    id: str
    risk_point: RiskPoint  # old_building (老旧小区, walk-ups) or high_rise
    floors: int
    coordinates: Coordinates


@dataclass(frozen=True, slots=True)
class SimGateway:
    id: str
    area: Area
    coordinates: Coordinates
    sensors: tuple[SimSensor, ...]


@dataclass(frozen=True, slots=True)
class NamedPlace:
    """What districts, streets and communities share: an id, names and a centre."""

    id: str
    zh: str
    en: str
    coordinates: Coordinates


@dataclass(frozen=True, slots=True)
class SimCommunity(NamedPlace):
    buildings: tuple[SimBuilding, ...]
    gateways: tuple[SimGateway, ...]


@dataclass(frozen=True, slots=True)
class SimStreet(NamedPlace):
    communities: tuple[SimCommunity, ...]


@dataclass(frozen=True, slots=True)
class SimDistrict(NamedPlace):
    streets: tuple[SimStreet, ...]


@dataclass(frozen=True, slots=True)
class SimCity:
    seed: int
    centre: Coordinates
    districts: tuple[SimDistrict, ...]

    def communities(self) -> Iterator[tuple[SimDistrict, SimStreet, SimCommunity]]:
        for d in self.districts:
            for s in d.streets:
                yield from ((d, s, c) for c in s.communities)

    def gateways(self) -> Iterator[SimGateway]:
        for _, _, c in self.communities():
            yield from c.gateways

    def sensors(self) -> Iterator[tuple[SimGateway, SimSensor]]:
        for g in self.gateways():
            yield from ((g, s) for s in g.sensors)
