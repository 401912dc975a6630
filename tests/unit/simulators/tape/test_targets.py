"""Places by position resolved in a generated city, and impossible requests said plainly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from simulators.city import SimCity, SimSensor, generate_city
from simulators.scenarios.model import Place
from simulators.tape.compile import compile_tape
from simulators.tape.targets import TargetError, Targets
from streetwatch.kinds import KindName
from unit.simulators.tape.tapes import scenario

Edit = Callable[[tuple[SimSensor, ...]], tuple[SimSensor, ...]]


@pytest.fixture(scope="module")
def city() -> SimCity:
    """Two streets of three communities, each with one gateway of the "mixed" sensors."""
    return generate_city(3, 1, 2, 3, 1, "mixed", shared_broker=True)


def _edit(city: SimCity, community: int, edit: Edit) -> SimCity:
    """``city`` with the sensors of community ``community`` of the first street edited."""
    (district,) = city.districts
    street = district.streets[0]
    place = street.communities[community]
    gateways = tuple(replace(g, sensors=edit(g.sensors)) for g in place.gateways)
    communities = list(street.communities)
    communities[community] = replace(place, gateways=gateways)
    streets = (replace(street, communities=tuple(communities)), *district.streets[1:])
    return replace(city, districts=(replace(district, streets=streets),))


def _without(kind: KindName) -> Edit:
    return lambda sensors: tuple(s for s in sensors if s.kind is not kind)


def _smoke_in(*buildings: str) -> Edit:
    """The community's smoke detectors, in order, moved into ``buildings``; the rest as is."""

    def edit(sensors: tuple[SimSensor, ...]) -> tuple[SimSensor, ...]:
        smoke = iter(buildings)
        out = []
        for s in sensors:
            if s.kind is KindName.SMOKE:
                building = next(smoke, None)
                out.append(replace(s, building=building) if building else s)
            else:
                out.append(s)
        assert next(smoke, None) is None, "more buildings than detectors"
        return tuple(out)

    return edit


def test_places_beyond_the_city_say_what_it_has(city: SimCity) -> None:
    targets = Targets(city)
    with pytest.raises(TargetError, match=r"street 2 does not exist: the city has 2 street\(s\)"):
        targets.street(2)
    with pytest.raises(TargetError, match="community 3 of street 1 does not exist: it has 3"):
        targets.community(Place(street=1, community=3))
    with pytest.raises(TargetError, match=r"gateway 1 of community \w+ does not exist: it has 1"):
        targets.gateway(Place(community=2, gateway=1))
    with pytest.raises(TargetError, match="street 5 does not exist"):
        targets.sensor(Place(street=5), KindName.SMOKE, 0)
    (last,) = city.districts[0].streets[1].communities[2].gateways
    assert targets.gateway(Place(street=1, community=2)) is last


def test_a_scenario_beyond_the_city_is_refused_when_compiled() -> None:
    with pytest.raises(TargetError, match="community 4 of street 0 does not exist: it has 2"):
        compile_tape(scenario({"at": 60, "do": "cooking", "where": {"community": 4}}), 1)
    with pytest.raises(TargetError, match="street 1 does not exist"):
        compile_tape(scenario({"at": 60, "do": "rain", "streets": [0, 1], "mm_h": 50}), 1)
    with pytest.raises(TargetError, match=r"sensor 99 of gateway \S+ does not exist: it has 10"):
        compile_tape(scenario({"at": 60, "do": "test_alarm", "sensor": 99}), 1)


def test_sensor_is_the_nth_of_its_kind_in_configuration_order(city: SimCity) -> None:
    targets = Targets(city)
    place = Place(street=1, community=1)
    gateway = targets.gateway(place)
    smoke = [s for s in gateway.sensors if s.kind is KindName.SMOKE]
    assert [targets.sensor(place, KindName.SMOKE, n) for n in range(len(smoke))] == smoke


def test_sensor_falls_through_to_the_next_community_that_has_one(city: SimCity) -> None:
    bare = _edit(_edit(city, 0, _without(KindName.SMOKE)), 2, _without(KindName.SMOKE))
    targets = Targets(bare)
    second = targets.sensors(Place(community=1), KindName.SMOKE)
    assert targets.sensor(Place(community=0), KindName.SMOKE, 0) == second[0]
    assert targets.sensor(Place(community=2), KindName.SMOKE, 1) == second[1]  # wraps around
    assert targets.sensor(Place(community=1), KindName.SMOKE, 0) == second[0]
    with pytest.raises(TargetError, match=r"no community of street \w+ has 4 smoke sensor\(s\)"):
        targets.sensor(Place(community=0), KindName.SMOKE, 3)


def test_sensor_takes_the_first_community_with_enough(city: SimCity) -> None:
    """Community 1 keeps one smoke detector; asking for the 2nd goes on to community 2."""
    first = Targets(city).sensor(Place(community=1), KindName.SMOKE, 0)

    def keep(sensors: tuple[SimSensor, ...]) -> tuple[SimSensor, ...]:
        return tuple(s for s in sensors if s.kind is not KindName.SMOKE or s is first)

    targets = Targets(_edit(city, 1, keep))
    assert targets.sensor(Place(community=1), KindName.SMOKE, 0) == first
    second = targets.sensors(Place(community=2), KindName.SMOKE)[1]
    assert targets.sensor(Place(community=1), KindName.SMOKE, 1) == second


@pytest.mark.parametrize(
    ("buildings", "chosen"),
    [
        (("b1", "b2", "b2"), "b2"),
        (("b3", "b1", "b3"), "b3"),
        (("b1", "b2", "b3"), "b1"),  # a tie: the first listed
        (("b2", "b1", "b1"), "b1"),
    ],
)
def test_smoke_building_has_the_most_detectors(
    city: SimCity, buildings: tuple[str, ...], chosen: str
) -> None:
    targets = Targets(_edit(city, 0, _smoke_in(*buildings)))
    building, detectors = targets.smoke_building(Place())
    assert building == chosen
    assert [s.building for s in detectors] == [chosen] * buildings.count(chosen)
    smoke = targets.sensors(Place(), KindName.SMOKE)
    assert detectors == [s for s in smoke if s.building == chosen]


def test_smoke_building_in_a_community_without_detectors(city: SimCity) -> None:
    targets = Targets(_edit(city, 0, _without(KindName.SMOKE)))
    with pytest.raises(TargetError, match="has no smoke detectors in a building"):
        targets.smoke_building(Place())
