"""What the dashboards' map and status panels read: severities, coordinates, sensor inventory,
street pictures and pages, with exact tags and field types (InfluxDB keeps one type per field)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from hub.incidents.model import Incident, IncidentScope, IncidentState
from hub.notify.escalation import PageRecord
from hub.storage.base import FieldValue, Point
from hub.storage.hub_points import StreetPicture, incident_points, page_points, street_status_points
from hub.storage.schema import MEASUREMENTS, Origin, event_points, mean_position, state_points
from streetwatch.anomalies import AnomalyType, Hazard
from streetwatch.kinds import KindName
from streetwatch.levels import Level
from streetwatch.location import Area, Coordinates, Placement, RiskPoint
from streetwatch.messages import AnomalyEvent, EventState, GatewayState, SensorInfo

T0 = 1_795_000_000_000
BOOT = "0123abcd"
AREA = Area(district="pudong", street="huamu", community="lianyang")
WL = Placement(
    building="b12",
    floor=-1,
    risk_point=RiskPoint.BASEMENT,
    coordinates=Coordinates(lat=31.2, lon=121.5),
)
GAS = Placement(coordinates=Coordinates(lat=31.4, lon=121.7))
BARE = Placement()
ORIGIN = Origin(AREA, "gw-1", {"wl-1": WL, "gas-1": GAS, "smoke-1": BARE})
GATEWAY_TAGS = {"community": "lianyang", "district": "pudong", "gateway": "gw-1", "street": "huamu"}


def types(fields: Mapping[str, FieldValue]) -> dict[str, type]:
    return {k: type(v) for k, v in fields.items()}


def event(
    level: Level, state: EventState = EventState.RAISED, sensor: str = "wl-1"
) -> AnomalyEvent:
    return AnomalyEvent(
        id=f"e-{level}-{state}",
        gateway="gw-1",
        boot=BOOT,
        seq=1,
        sensor=sensor,
        kind=KindName.WATER_LEVEL,
        type=AnomalyType.THRESHOLD,
        level=level,
        state=state,
        t=T0,
        metric="depth",
        value=31,
    )


def test_a_raised_event_has_its_levels_rank_and_the_sensors_position() -> None:
    for level, rank in ((Level.BLUE, 1), (Level.YELLOW, 2), (Level.ORANGE, 3), (Level.RED, 4)):
        (p,) = event_points(event(level), ORIGIN)
        assert p.fields["severity"] == rank
        assert type(p.fields["severity"]) is int
    assert (p.fields["lat"], p.fields["lon"]) == (31.2, 121.5)
    assert type(p.fields["lat"]) is float
    assert type(p.fields["lon"]) is float


def test_a_cleared_event_has_severity_zero_and_no_position_without_coordinates() -> None:
    (cleared,) = event_points(event(Level.RED, EventState.CLEARED), ORIGIN)
    assert cleared.fields["severity"] == 0
    (unplaced,) = event_points(event(Level.RED, sensor="smoke-1"), ORIGIN)
    assert "lat" not in unplaced.fields
    assert "lon" not in unplaced.fields
    (unknown,) = event_points(event(Level.RED, sensor="nobody"), ORIGIN)
    assert "lat" not in unknown.fields


def birth(*sensors: SensorInfo, online: bool = True) -> GatewayState:
    return GatewayState(
        gateway="gw-1", area=AREA, online=online, boot=BOOT, t=T0, software="1.2", sensors=sensors
    )


def info(sensor: str, kind: KindName, placement: Placement) -> SensorInfo:
    return SensorInfo(
        id=sensor, kind=kind, placement=placement, report_interval_s=60, offline_after_s=300
    )


def test_a_birth_stores_the_gateway_at_its_sensors_mean_and_one_sensor_info_each() -> None:
    announced = (
        info("wl-1", KindName.WATER_LEVEL, WL),
        info("gas-1", KindName.GAS, GAS),
        info("smoke-1", KindName.SMOKE, BARE),
    )
    state, wl, gas, smoke = state_points(birth(*announced), ORIGIN)
    assert state.measurement == "gateway_state"
    assert dict(state.tags) == GATEWAY_TAGS
    # The mean of 31.2 and 31.4 (smoke-1 has no position)
    assert state.fields["up"] == 1
    assert state.fields["lat"] == pytest.approx(31.3)
    assert state.fields["lon"] == pytest.approx(121.6)
    assert types(state.fields) == {
        "online": bool, "up": int, "sensors": int, "software": str, "lat": float, "lon": float,
    }  # fmt: skip
    assert wl == Point(
        "sensor_info",
        tuple(
            sorted(
                {
                    **GATEWAY_TAGS,
                    "sensor": "wl-1",
                    "building": "b12",
                    "risk_point": "basement",
                    "kind": "water_level",
                }.items()
            )
        ),
        {
            "lat": 31.2,
            "lon": 121.5,
            "floor": -1,
            "report_interval_s": 60.0,
            "offline_after_s": 300.0,
            "count": 1,
        },
        T0,
    )
    assert types(wl.fields) == {
        "lat": float, "lon": float, "floor": int,
        "report_interval_s": float, "offline_after_s": float, "count": int,
    }  # fmt: skip
    assert dict(gas.tags)["kind"] == "gas"
    assert "floor" not in gas.fields
    assert dict(smoke.tags) == {**GATEWAY_TAGS, "sensor": "smoke-1", "kind": "smoke"}
    assert set(smoke.fields) == {"report_interval_s", "offline_after_s", "count"}
    assert {k for p in (wl, gas, smoke) for k, _ in p.tags} <= set(MEASUREMENTS["sensor_info"].tags)


def test_a_death_has_no_sensor_info_and_no_position_without_coordinates() -> None:
    (state,) = state_points(birth(online=False), ORIGIN)
    assert state.fields["online"] is False
    assert "lat" in state.fields  # the registered sensors' position still places it
    (unplaced,) = state_points(birth(online=False), Origin(AREA, "gw-1", {"s": BARE}))
    assert "lat" not in unplaced.fields


def test_mean_position_of_nothing_known_is_none() -> None:
    assert mean_position([None, None]) is None
    assert mean_position([]) is None
    assert mean_position([Coordinates(lat=1, lon=2)]) == Coordinates(lat=1.0, lon=2.0)


def an_incident(level: Level = Level.ORANGE, **changes: object) -> Incident:
    base = Incident(
        id="I-20261122-0001",
        key="k",
        hazard=Hazard.FLOOD,
        district="pudong",
        street="huamu",
        level=level,
        opened_at=T0,
        updated_at=T0,
    )
    return base.model_copy(update=changes)


def test_an_incident_has_the_rank_of_its_current_level() -> None:
    (p,) = incident_points(an_incident(Level.YELLOW))
    assert p.fields["severity"] == 2
    assert type(p.fields["severity"]) is int
    (p,) = incident_points(an_incident(Level.RED, state=IncidentState.ACKNOWLEDGED))
    assert p.fields["severity"] == 4


def test_a_street_picture() -> None:
    picture = StreetPicture(
        district="pudong",
        street="huamu",
        open_by_level={Level.YELLOW: 2, Level.RED: 1},
        unacknowledged=1,
        gateways_online=3,
        gateways_total=4,
        cut_off=True,
        position=Coordinates(lat=31.214, lon=121.556),
    )
    assert street_status_points(picture, T0) == [
        Point(
            "street_status",
            (("district", "pudong"), ("street", "huamu")),
            {
                "severity": 4,
                "level": "red",
                "open_incidents": 3,
                "open_blue": 0,
                "open_yellow": 2,
                "open_orange": 0,
                "open_red": 1,
                "unacknowledged": 1,
                "gateways_online": 3,
                "gateways_total": 4,
                "cut_off": True,
                "lat": 31.214,
                "lon": 121.556,
            },
            T0,
        )
    ]


def test_a_quiet_street_without_coordinates() -> None:
    quiet = StreetPicture("pudong", "yangjing", {}, 0, 0, 0, cut_off=False)
    (p,) = street_status_points(quiet, T0)
    assert (p.fields["severity"], p.fields["level"], p.fields["open_incidents"]) == (0, "none", 0)
    assert "lat" not in p.fields
    assert "lon" not in p.fields
    assert types(p.fields) == {
        "severity": int, "level": str, "open_incidents": int, "open_blue": int,
        "open_yellow": int, "open_orange": int, "open_red": int, "unacknowledged": int,
        "gateways_online": int, "gateways_total": int, "cut_off": bool,
    }  # fmt: skip


def test_a_delivery_is_a_page_with_its_channel_recipient_and_role() -> None:
    entry = PageRecord(T0, "I-20261122-0001", "notified", channel="sms", recipient="wang")
    (p,) = page_points(entry, an_incident(Level.RED), "grid_worker")
    assert p == Point(
        "page",
        (
            ("action", "notified"),
            ("channel", "sms"),
            ("district", "pudong"),
            ("hazard", "flood"),
            ("level", "red"),
            ("street", "huamu"),
        ),
        {"incident": "I-20261122-0001", "recipient": "wang", "count": 1, "tier": "grid_worker"},
        T0,
    )


def test_a_round_of_a_district_incident_is_a_page_on_street_star() -> None:
    wide = an_incident(scope=IncidentScope.DISTRICT, street=None, streets=("huamu", "yangjing"))
    entry = PageRecord(T0 + 5, wide.id, "escalated", detail="level=orange round=2 tier=1")
    (p,) = page_points(entry, wide, None)
    assert dict(p.tags) == {
        "action": "escalated",
        "district": "pudong",
        "hazard": "flood",
        "level": "orange",
        "street": "*",
    }
    assert p.fields == {"incident": wide.id, "recipient": "", "count": 1}
    assert p.time_ms == T0 + 5
    assert {k for k, _ in p.tags} <= set(MEASUREMENTS["page"].tags)
