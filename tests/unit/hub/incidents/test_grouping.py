from __future__ import annotations

import pytest

from hub.events import HubEvent, HubEventType
from hub.fanout import Located
from hub.incidents.grouping import (
    GroupKey,
    edge_key,
    edge_signal,
    hazard_of,
    hub_key,
    hub_signal,
    ignored,
    spread_targets,
)
from hub.incidents.model import Incident, IncidentScope, IncidentState
from hub.incidents.rules import DEFAULT_RULES, SpreadRule
from streetwatch.anomalies import AnomalyType, Hazard
from streetwatch.kinds import KindName
from streetwatch.levels import Level
from streetwatch.messages import AnomalyEvent
from unit.hub.incidents.factory import CLEARED, edge, flood, hub, incident, signal

A = AnomalyType
H = HubEventType


@pytest.mark.parametrize(
    ("event", "key"),
    [
        (edge(kind=KindName.SMOKE), "pudong/huamu/fire/lianyang/b1"),
        (edge(kind=KindName.GAS, building="b7"), "pudong/huamu/gas/lianyang/b7"),
        (edge(kind=KindName.SMOKE, building=None), "pudong/huamu/fire/lianyang/*"),
        (edge(kind=KindName.WATER_LEVEL, type=A.THRESHOLD), "pudong/huamu/flood/*/*"),
        (edge(kind=KindName.HYDRANT, type=A.THRESHOLD), "pudong/huamu/water_supply/*/*"),
        (edge(kind=KindName.MANHOLE_COVER), "pudong/huamu/road/lianyang/*"),
        (edge(kind=KindName.SMOKE, type=A.BATTERY_LOW), "pudong/huamu/device/lianyang/*"),
        (edge(kind=KindName.WATER_LEVEL, type=A.OFFLINE), "pudong/huamu/device/lianyang/*"),
        (edge(kind=KindName.GAS, type=A.TAMPER), "pudong/huamu/device/lianyang/*"),
        (edge(kind=KindName.POWER, type=A.THRESHOLD), "pudong/huamu/device/lianyang/*"),
        (edge(kind=KindName.SMOKE, street="lujiazui"), "pudong/lujiazui/fire/lianyang/b1"),
    ],
)
def test_edge_events_group_by_hazard_and_place(event: Located[AnomalyEvent], key: str) -> None:
    assert edge_key(event).text == key


def test_two_smoke_detectors_of_one_building_share_a_key_other_buildings_do_not() -> None:
    assert edge_key(edge("s1")) == edge_key(edge("s2", gateway="gw-b"))
    assert edge_key(edge("s1")) != edge_key(edge("s3", building="b2"))


def test_device_faults_are_the_device_hazard_whatever_the_kind() -> None:
    assert hazard_of(edge(type=A.STUCK).message) is Hazard.DEVICE
    assert hazard_of(edge(type=A.THRESHOLD).message) is Hazard.FIRE
    assert hazard_of(edge(kind=KindName.HYDRANT, type=A.RATE_OF_CHANGE).message) is (
        Hazard.WATER_SUPPLY
    )


@pytest.mark.parametrize(
    ("event", "key"),
    [
        (hub(H.GATEWAY_OFFLINE, gateway="gw-a"), "pudong/huamu/device/lianyang/*"),
        (hub(H.SENSOR_OVERDUE, gateway="gw-a", sensor="s1"), "pudong/huamu/device/lianyang/*"),
        (hub(H.AREA_OUTAGE), "pudong/huamu/device/lianyang/*"),
        (hub(H.AREA_OUTAGE, community=None), "pudong/huamu/device/*/*"),
        (hub(H.GATEWAY_REFUSED, community=None, gateway="x"), "pudong/huamu/device/*/*"),
    ],
)
def test_hub_events_are_device_incidents_of_the_community_or_street(
    event: HubEvent, key: str
) -> None:
    assert hub_key(event).text == key


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (edge(), False),
        (edge(test=True), True),
        (edge(type=A.TEST, test=True), True),
        (edge(type=A.SELF_TEST), True),
        (edge(type=A.BATTERY_LOW), False),
    ],
)
def test_tests_and_self_tests_are_ignored(event: Located[AnomalyEvent], expected: bool) -> None:
    assert ignored(event.message) is expected


def test_an_edge_clear_has_the_key_of_its_raise_and_is_inactive() -> None:
    raised = edge_signal(edge(metric="smoke", value=True))
    cleared = edge_signal(edge(state=CLEARED, metric="smoke", value=False))
    assert raised.key == cleared.key == "edge:gw-a:s1:alarm_flag:smoke"
    assert (raised.active, cleared.active) == (True, False)
    assert (raised.building, raised.community, raised.kind) == ("b1", "lianyang", KindName.SMOKE)
    assert edge_signal(edge(), muted=True).muted


@pytest.mark.parametrize(
    ("raise_", "clear"),
    [
        (HubEventType.GATEWAY_OFFLINE, HubEventType.GATEWAY_ONLINE),
        (HubEventType.SENSOR_OVERDUE, HubEventType.SENSOR_BACK),
        (HubEventType.AREA_OUTAGE, HubEventType.AREA_RESTORED),
    ],
)
def test_a_hub_clear_has_the_key_and_type_of_its_raise(
    raise_: HubEventType, clear: HubEventType
) -> None:
    up = hub_signal(hub(raise_, gateway="gw-a", sensor="s1"))
    down = hub_signal(hub(clear, gateway="gw-a", sensor="s1", t=2))
    assert (up.key, up.type) == (down.key, down.type) == (up.key, raise_.value)
    assert (up.active, down.active) == (True, False)


def test_community_and_street_outages_are_different_signals() -> None:
    community = hub_signal(hub(HubEventType.AREA_OUTAGE))
    street = hub_signal(hub(HubEventType.AREA_OUTAGE, community=None))
    assert community.key != street.key


def test_a_refusal_stays_active() -> None:
    assert hub_signal(hub(HubEventType.GATEWAY_REFUSED, gateway="x")).active


def test_keys_of_district_and_city_incidents() -> None:
    assert GroupKey("pudong", None, Hazard.FLOOD).text == "pudong/*/flood/*/*"
    assert GroupKey(None, None, Hazard.FLOOD).text == "*/*/flood/*/*"


# -- spread: street incidents grouped into district and city incidents ----------------------

SPREAD = next(r for r in DEFAULT_RULES if isinstance(r, SpreadRule))
FLOOD = Hazard.FLOOD


def targets(*incidents: Incident) -> dict[str, tuple[IncidentScope, list[str]]]:
    found = spread_targets(SPREAD, FLOOD, incidents)
    return {key.text: (scope, sorted(c.id for c in children)) for key, scope, children in found}


def test_two_streets_of_a_district_make_a_district_incident() -> None:
    a, b = flood("huamu"), flood("lujiazui")
    assert targets(a, b) == {"pudong/*/flood/*/*": (IncidentScope.DISTRICT, sorted([a.id, b.id]))}


@pytest.mark.parametrize(
    "incidents",
    [
        [flood("huamu")],
        [flood("huamu"), flood("lujiazui", Level.BLUE)],  # below min_level yellow
        [flood("huamu"), flood("lujiazui", muted=True)],
        [flood("huamu"), flood("lujiazui", state=IncidentState.RESOLVED)],
    ],
)
def test_what_does_not_spread(incidents: list[Incident]) -> None:
    assert targets(*incidents) == {}


def test_two_districts_make_a_city_incident() -> None:
    a, b = flood("huamu"), flood("xinjiekou", district="xuanwu")
    assert targets(a, b) == {"*/*/flood/*/*": (IncidentScope.CITY, sorted([a.id, b.id]))}


def test_hazards_outside_the_rule_never_spread() -> None:
    fires = [incident(Hazard.FIRE, signal("s"), street=s, level=Level.RED) for s in ("a", "b")]
    assert spread_targets(SPREAD, Hazard.FIRE, fires) == []
