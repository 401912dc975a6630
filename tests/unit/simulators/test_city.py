"""The generated city: reproducible, the asked size, unique ids, plausible places, valid configs."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest
import yaml

import simulators.city
from edge.config import GatewayConfig
from hub.city import CityConfig, load_city
from simulators.city import (
    SHANGHAI,
    Brokers,
    SimCity,
    gateway_config,
    generate_city,
    hub_city,
    write_configs,
)
from streetwatch.config import load_config, load_config_text
from streetwatch.kinds import Ecosystem, KindName
from streetwatch.location import Coordinates, RiskPoint
from streetwatch.topics import parse_device_topic

E = Ecosystem
MIX = {KindName.SMOKE: 3, KindName.GAS: 2, KindName.WATER_LEVEL: 2, KindName.HYDRANT: 1}
FITTING: dict[KindName, set[RiskPoint | None]] = {
    KindName.SMOKE: {RiskPoint.OLD_BUILDING, RiskPoint.HIGH_RISE},
    KindName.GAS: {RiskPoint.KITCHEN, RiskPoint.PIPE_WELL},
    KindName.WATER_LEVEL: {
        RiskPoint.UNDERPASS,
        RiskPoint.UNDERGROUND_GARAGE,
        RiskPoint.LOW_LYING_ROAD,
    },
    KindName.HYDRANT: {RiskPoint.STREET},
    KindName.MANHOLE_COVER: {RiskPoint.STREET},
    KindName.POWER: {None},
}


@pytest.fixture(scope="module")
def city() -> SimCity:
    return generate_city(42, 2, 3, 4, 2, "mixed")


def _metres(a: Coordinates, b: Coordinates) -> float:
    dy = (a.lat - b.lat) * 111_320
    dx = (a.lon - b.lon) * 111_320 * math.cos(math.radians(a.lat))
    return math.hypot(dx, dy)


def test_the_same_seed_builds_the_same_city(tmp_path: Path) -> None:
    a, b = generate_city(7, 2, 2, 3, 1, MIX), generate_city(7, 2, 2, 3, 1, MIX)
    assert a == b
    first = [p.read_bytes() for p in write_configs(a, tmp_path / "a")]
    assert first == [p.read_bytes() for p in write_configs(b, tmp_path / "b")]
    assert generate_city(8, 2, 2, 3, 1, MIX) != a


def test_sizes() -> None:
    city = generate_city(1, 3, 2, 5, 2, MIX)
    assert len(city.districts) == 3
    assert all(len(d.streets) == 2 for d in city.districts)
    assert len(list(city.communities())) == 3 * 2 * 5
    assert len(list(city.gateways())) == 3 * 2 * 5 * 2
    assert all(Counter(s.kind for s in g.sensors) == MIX for g in city.gateways())
    assert all(4 <= len(c.buildings) <= 10 for _, _, c in city.communities())


def test_ids_are_unique_slugs(city: SimCity) -> None:
    places = [
        *(d.id for d in city.districts),
        *(s.id for d in city.districts for s in d.streets),
        *(c.id for _, _, c in city.communities()),
    ]
    gateways = [g.id for g in city.gateways()]
    sensors = [s.id for _, s in city.sensors()]
    topics = [s.source.topic for _, s in city.sensors()]
    for ids in (places, gateways, sensors, topics):
        assert len(ids) == len(set(ids))
    for _, _, c in city.communities():
        assert len({b.id for b in c.buildings}) == len(c.buildings)


def test_names_in_chinese_and_english(city: SimCity) -> None:
    for d, s, c in city.communities():
        assert d.zh.endswith("区")
        assert d.en.endswith(" District")
        assert s.zh.endswith("街道")
        assert c.zh.endswith("社区")
        assert all(x.en.isascii() and x.en[0].isupper() for x in (d, s, c))


def test_coordinates_around_the_centre(city: SimCity) -> None:
    centre = Coordinates(lat=39.9, lon=116.4)
    beijing = generate_city(3, 2, 2, 2, 1, MIX, centre=centre)
    assert all(_metres(c.coordinates, centre) < 5_000 for _, _, c in beijing.communities())
    communities = [c for _, _, c in city.communities()]
    assert all(_metres(c.coordinates, SHANGHAI) < 5_000 for c in communities)
    nearest = [
        min(_metres(a.coordinates, b.coordinates) for b in communities if b is not a)
        for a in communities
    ]
    assert min(nearest) > 250
    assert max(nearest) < 700
    for c in communities:
        for g in c.gateways:
            assert all(_metres(s.coordinates, c.coordinates) < 250 for s in g.sensors)


def test_risk_points_fit_the_kind(city: SimCity) -> None:
    for g, s in city.sensors():
        assert s.risk_point in FITTING[s.kind], s
        community = next(c for _, _, c in city.communities() if c.id == g.area.community)
        if s.building is not None:
            building = next(b for b in community.buildings if b.id == s.building)
            assert s.floor is not None
            assert -1 <= s.floor <= building.floors
        if s.risk_point is RiskPoint.UNDERGROUND_GARAGE:
            assert s.floor == -1
        if s.kind is KindName.SMOKE:
            assert s.building is not None


def test_ecosystems_are_mixed_realistically() -> None:
    city = generate_city(5, 2, 3, 4, 1, "residential")
    by_kind = Counter((s.kind, s.source.ecosystem) for _, s in city.sensors())
    smoke = {e: n for (k, e), n in by_kind.items() if k is KindName.SMOKE}
    assert max(smoke, key=lambda e: smoke[e]) is Ecosystem.ZIGBEE2MQTT
    assert (
        by_kind[KindName.HYDRANT, Ecosystem.CHIRPSTACK] > by_kind[KindName.HYDRANT, Ecosystem.JSON]
    )
    assert {e for _, e in by_kind} == set(E)


@pytest.mark.parametrize("shared", [False, True])
def test_every_gateway_config_validates(shared: bool) -> None:
    city = generate_city(11, 2, 2, 3, 2, "mixed", shared_broker=shared)
    brokers = Brokers(uplink_host="hub.local", uplink_port=8883, topic_prefix="t-1")
    for gateway in city.gateways():
        text = yaml.safe_dump(gateway_config(gateway, brokers), allow_unicode=True)
        config = load_config_text(GatewayConfig, text, f"{gateway.id}.yaml")
        assert config.gateway.id == gateway.id
        assert config.gateway.area == gateway.area
        assert config.uplink.host == "hub.local"
        assert config.uplink.topic_prefix == "t-1"
        for sim in gateway.sensors:
            sensor = config.sensor(sim.id)
            assert sensor.kind == sim.kind
            assert sensor.source.base_topic == sim.source.base_topic
            # a simulated device publishes where this gateway's sensor listens
            found = parse_device_topic(sim.source.ecosystem, sim.source.topic, sensor.source.base)
            assert found.device.lower() == sensor.source.device.lower()


def test_the_city_validates(city: SimCity) -> None:
    config = CityConfig.model_validate(hub_city(city))
    assert config.problems() == []
    assert config.street_count == 6
    assert all(config.community(g.area) is not None for g in city.gateways())


def test_write_configs(tmp_path: Path, city: SimCity) -> None:
    paths = write_configs(city, tmp_path / "out")
    assert {p.name for p in paths} == {f"{g.id}.yaml" for g in city.gateways()} | {"city.yaml"}
    loaded = load_city(tmp_path / "out" / "city.yaml")
    assert [d.id for d in loaded.districts] == [d.id for d in city.districts]
    assert "街道" in (tmp_path / "out" / "city.yaml").read_text("utf-8")  # not escaped
    gateway = next(city.gateways())
    assert load_config(GatewayConfig, tmp_path / "out" / f"{gateway.id}.yaml").sensors


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown mix 'huge'; known: residential"):
        generate_city(1, sensors_per_gateway="huge")
    with pytest.raises(ValueError, match="at least 1"):
        generate_city(1, districts=0)
    with pytest.raises(ValueError, match="negative"):
        generate_city(1, sensors_per_gateway={KindName.GAS: -1})


def test_public_names() -> None:
    for name in simulators.city.__all__:
        assert hasattr(simulators.city, name), name
