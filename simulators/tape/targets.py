"""Places of a scenario (``street: 0, community: 1``) resolved in a generated city.

A scenario names places by position so that it runs on the city of any seed. Where it needs a
particular sensor (the building with the most smoke detectors, the pipe-well gas detector) the
choice is made here, the same way every time, and an impossible request says what the city has.
"""

from __future__ import annotations

from collections import Counter

from simulators.city import SimCity, SimCommunity, SimDistrict, SimGateway, SimSensor, SimStreet
from simulators.scenarios.model import Place
from streetwatch.kinds import KindName
from streetwatch.location import RiskPoint


class TargetError(ValueError):
    """A scenario asks for something the generated city does not have."""


class Targets:
    def __init__(self, city: SimCity) -> None:
        self.city = city
        self.streets: list[tuple[SimDistrict, SimStreet]] = [
            (d, s) for d in city.districts for s in d.streets
        ]

    def street(self, index: int) -> tuple[SimDistrict, SimStreet]:
        if index >= len(self.streets):
            raise TargetError(
                f"street {index} does not exist: the city has {len(self.streets)} street(s), "
                "numbered from 0; make the scenario's city bigger"
            )
        return self.streets[index]

    def community(self, place: Place) -> tuple[SimDistrict, SimStreet, SimCommunity]:
        district, street = self.street(place.street)
        if place.community >= len(street.communities):
            raise TargetError(
                f"community {place.community} of street {place.street} does not exist: it has "
                f"{len(street.communities)}, numbered from 0"
            )
        return district, street, street.communities[place.community]

    def gateway(self, place: Place) -> SimGateway:
        _, _, community = self.community(place)
        if place.gateway >= len(community.gateways):
            raise TargetError(
                f"gateway {place.gateway} of community {community.id} does not exist: it has "
                f"{len(community.gateways)}, numbered from 0"
            )
        return community.gateways[place.gateway]

    def gateways_of(self, street_index: int) -> list[SimGateway]:
        _, street = self.street(street_index)
        return [g for c in street.communities for g in c.gateways]

    def sensors(
        self, place: Place, kind: KindName, risk: RiskPoint | None = None
    ) -> list[SimSensor]:
        """Every sensor of ``kind`` (at ``risk``) in the community, in configuration order."""
        _, _, community = self.community(place)
        return [
            s
            for g in community.gateways
            for s in g.sensors
            if s.kind is kind and (risk is None or s.risk_point is risk)
        ]

    def sensor(
        self, place: Place, kind: KindName, index: int, risk: RiskPoint | None = None
    ) -> SimSensor:
        """The ``index``-th such sensor of the community; if it has too few, of the next
        community of the street that has enough (so a scenario runs on any seed's city)."""
        _, street, _ = self.community(place)  # the place itself must exist
        count = len(street.communities)
        for step in range(count):
            at = place.model_copy(update={"community": (place.community + step) % count})
            found = self.sensors(at, kind, risk)
            if index < len(found):
                return found[index]
        where = f" at a {risk.value}" if risk else ""
        raise TargetError(
            f"no community of street {street.id} has {index + 1} {kind.value} sensor(s){where}; "
            "give the scenario's city another mix or more communities"
        )

    def smoke_building(self, place: Place) -> tuple[str, list[SimSensor]]:
        """The building with the most smoke detectors (ties: the first listed), and those."""
        detectors = [s for s in self.sensors(place, KindName.SMOKE) if s.building]
        if not detectors:
            _, _, community = self.community(place)
            raise TargetError(f"community {community.id} has no smoke detectors in a building")
        counts = Counter(s.building for s in detectors)
        building = max(counts, key=lambda b: (counts[b], -list(counts).index(b)))
        assert building is not None
        return building, [s for s in detectors if s.building == building]

    def gateway_of(self, sensor: SimSensor) -> SimGateway:
        return next(g for g in self.city.gateways() if sensor in g.sensors)
