"""Wire messages → points: measurements, exact tag sets, field names and types, times."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.events import HubEvent, HubEventType, OfflineCause
from hub.storage.base import Point
from hub.storage.hub_points import hub_event_points
from hub.storage.schema import (
    MEASUREMENTS,
    Origin,
    event_points,
    health_points,
    state_points,
    telemetry_points,
)
from streetwatch.anomalies import AnomalyType
from streetwatch.kinds import KindName
from streetwatch.levels import Level
from streetwatch.location import Area, Placement, RiskPoint
from streetwatch.messages import (
    AnomalyEvent,
    EventState,
    GatewayHealth,
    GatewayState,
    LostRange,
    MetricStats,
    Quality,
    Reading,
    SensorInfo,
    TelemetryBatch,
    WindowSummary,
)

DOCS = Path(__file__).resolve().parents[4] / "docs" / "storage.md"
T0 = 1_795_000_000_000
BOOT = "0123abcd"
AREA = Area(district="pudong", street="huamu", community="lianyang")
ORIGIN = Origin(
    area=AREA,
    gateway="gw-1",
    placements={"wl-1": Placement(building="b12", floor=-1, risk_point=RiskPoint.BASEMENT)},
)
WHERE = (("community", "lianyang"), ("district", "pudong"), ("gateway", "gw-1"))
STREET = (("street", "huamu"),)
PLACED = (("building", "b12"), *WHERE, ("risk_point", "basement"))


def batch(**kwargs: object) -> TelemetryBatch:
    return TelemetryBatch(gateway="gw-1", boot=BOOT, seq=1, sent=T0, **kwargs)


def test_readings_one_point_each_in_their_kinds_measurement() -> None:
    points = telemetry_points(
        batch(
            readings=(
                Reading(
                    sensor="wl-1",
                    kind=KindName.WATER_LEVEL,
                    t=T0,
                    values={"depth": 31, "water_leak": True},  # a wire int for a float metric
                ),
                Reading(
                    sensor="smoke-1",
                    kind=KindName.SMOKE,
                    t=T0 + 5,
                    values={"smoke_density": 0.07},
                    quality=Quality.SUSPECT,
                ),
            )
        ),
        ORIGIN,
    )
    assert points == [
        Point(
            "water_level",
            (*PLACED[:4], ("quality", "good"), PLACED[4], ("sensor", "wl-1"), *STREET),
            {"depth": 31.0, "water_leak": True},
            T0,
        ),
        Point(
            "smoke",
            (*WHERE, ("quality", "suspect"), ("sensor", "smoke-1"), *STREET),
            {"smoke_density": 0.07},
            T0 + 5,
        ),
    ]
    assert type(points[0].fields["depth"]) is float  # never 31i: InfluxDB keeps one type


def test_window_summaries_go_to_the_window_measurement_at_the_window_end() -> None:
    summary = WindowSummary(
        sensor="wl-1",
        kind=KindName.WATER_LEVEL,
        start=T0 - 300_000,
        end=T0,
        stats={"depth": MetricStats(min=1.0, max=4.0, mean=2.5, last=3.0, count=5)},
        flags={"water_leak": False},
    )
    (p,) = telemetry_points(batch(summaries=(summary,)), ORIGIN)
    assert p == Point(
        "water_level_window",
        (*PLACED, ("sensor", "wl-1"), *STREET),  # no quality tag
        {
            "depth_min": 1.0,
            "depth_max": 4.0,
            "depth_mean": 2.5,
            "depth_last": 3.0,
            "depth_count": 5,
            "water_leak": False,
            "window_s": 300.0,
        },
        T0,
    )


def event(**kwargs: object) -> AnomalyEvent:
    base: dict[str, object] = {
        "id": "gw-1:0123abcd:event:7",
        "gateway": "gw-1",
        "boot": BOOT,
        "seq": 7,
        "sensor": "wl-1",
        "kind": KindName.WATER_LEVEL,
        "type": AnomalyType.THRESHOLD,
        "level": Level.ORANGE,
        "state": EventState.RAISED,
        "t": T0,
    }
    return AnomalyEvent(**(base | kwargs))


def test_anomaly_event() -> None:
    e = event(metric="depth", value=31.0, threshold=30.0, detail="积水 31 cm", replayed=True)
    assert event_points(e, ORIGIN) == [
        Point(
            "anomaly_event",
            (
                PLACED[0],
                PLACED[1],
                PLACED[2],
                PLACED[3],
                ("kind", "water_level"),
                ("level", "orange"),
                ("metric", "depth"),
                PLACED[4],
                ("sensor", "wl-1"),
                ("state", "raised"),
                *STREET,
                ("type", "threshold"),
            ),
            {
                "value": 31.0,
                "threshold": 30.0,
                "test": False,
                "replayed": True,
                "id": "gw-1:0123abcd:event:7",
                "detail": "积水 31 cm",
                "severity": 3,  # orange's rank
            },
            T0,
        )
    ]


def test_anomaly_event_flag_value_and_missing_optionals() -> None:
    (flag,) = event_points(event(sensor="x", metric="water_leak", value=True), ORIGIN)
    assert flag.fields["value"] == 1.0
    assert type(flag.fields["value"]) is float
    (bare,) = event_points(event(sensor="x", type=AnomalyType.OFFLINE), ORIGIN)
    assert "metric" not in dict(bare.tags)
    assert "building" not in dict(bare.tags)
    assert set(bare.fields) == {"test", "replayed", "id", "detail", "severity"}


def test_gateway_health() -> None:
    health = GatewayHealth(
        gateway="gw-1",
        boot=BOOT,
        seq=3,
        t=T0,
        uptime_s=3600,
        reconnects=2,
        buffer_depth={"event": 1, "telemetry": 120},
        dropped={"overflow": 4, "quota": 1},
        rejected={"schema": 1},
        last_seen={"wl-1": T0 - 1000, "smoke-1": T0 - 200_000},
        lost=(LostRange(boot=BOOT, channel="data", first=3, last=9),),
        alert_mode=True,
    )
    assert health_points(health, ORIGIN) == [
        Point(
            "gateway_health",
            (*WHERE, *STREET),
            {
                "uptime_s": 3600.0,
                "reconnects": 2,
                "buffer_depth_event": 1,
                "buffer_depth_telemetry": 120,
                "buffer_depth_total": 121,
                "dropped_total": 5,
                "rejected_total": 1,
                "lost_ranges": 1,
                "alert_mode": 1,
                "sensors_reporting": 2,
            },
            T0,
        )
    ]


def test_gateway_state() -> None:
    state = GatewayState(
        gateway="gw-1",
        area=AREA,
        online=False,
        boot=BOOT,
        t=T0,
        software="0.1.0",
        sensors=(
            SensorInfo(
                id="wl-1", kind=KindName.WATER_LEVEL, report_interval_s=60, offline_after_s=300
            ),
        ),
    )
    assert state_points(state, ORIGIN) == [
        Point(
            "gateway_state",
            (*WHERE, *STREET),
            {"online": False, "up": 0, "sensors": 1, "software": "0.1.0"},
            T0,
        )
    ]


def test_hub_events() -> None:
    outage = HubEvent(
        id="h-1",
        type=HubEventType.AREA_OUTAGE,
        t=T0,
        level=Level.YELLOW,
        district="pudong",
        street="huamu",
        community="lianyang",
        gateways=("gw-1", "gw-2"),
        detail="2 of 2 gateways silent",
    )
    assert hub_event_points(outage) == [
        Point(
            "hub_event",
            (
                ("community", "lianyang"),
                ("district", "pudong"),
                ("level", "yellow"),
                *STREET,
                ("type", "area_outage"),
            ),
            {"count": 1, "detail": "2 of 2 gateways silent", "gateways": "gw-1,gw-2"},
            T0,
        )
    ]
    offline = HubEvent(
        id="h-2",
        type=HubEventType.GATEWAY_OFFLINE,
        t=T0,
        district="pudong",
        street="huamu",
        gateway="gw-1",
        cause=OfflineCause.DEATH,
        since=T0 - 60_000,
    )
    (p,) = hub_event_points(offline)
    assert dict(p.tags) == {
        "cause": "death",
        "district": "pudong",
        "gateway": "gw-1",
        "level": "blue",
        "street": "huamu",
        "type": "gateway_offline",
    }
    assert p.fields == {"count": 1, "detail": "", "gateways": "", "since_ms": T0 - 60_000}


def every_kind_of_point() -> list[Point]:
    readings = tuple(
        Reading(sensor="wl-1", kind=k, t=T0, values={"battery": 80.0})
        for k in KindName
        if k is not KindName.MANHOLE_COVER
    )
    summaries = tuple(
        WindowSummary(sensor="wl-1", kind=k, start=T0, end=T0, flags={"battery_low": False})
        for k in KindName
    )
    hub = HubEvent(id="h", type=HubEventType.SENSOR_BACK, t=T0, district="d", street="s")
    return [
        *telemetry_points(batch(readings=readings, summaries=summaries), ORIGIN),
        *event_points(event(metric="depth"), ORIGIN),
        *hub_event_points(hub),
    ]


def test_measurement_table_lists_every_measurement_and_tag() -> None:
    points = every_kind_of_point()
    assert {p.measurement for p in points} <= set(MEASUREMENTS)
    for p in points:
        assert [k for k, _ in p.tags] == sorted(k for k, _ in p.tags)
        assert {k for k, _ in p.tags} <= set(MEASUREMENTS[p.measurement].tags), p.measurement
    assert len(MEASUREMENTS) == 2 * len(KindName) + 8


@pytest.mark.parametrize("name", sorted(MEASUREMENTS))
def test_docs_describe_every_measurement(name: str) -> None:
    assert f"`{name}`" in DOCS.read_text(encoding="utf-8")


def test_an_incident_change_is_one_point_at_its_update_time() -> None:
    from hub.incidents.model import Incident, IncidentScope, IncidentState
    from hub.storage.hub_points import incident_points
    from streetwatch.anomalies import Hazard
    from streetwatch.levels import Level

    wide = Incident(
        id="I-20261122-0001",
        key="k",
        hazard=Hazard.FLOOD,
        scope=IncidentScope.DISTRICT,
        district="pudong",
        street=None,
        level=Level.RED,
        state=IncidentState.ACKNOWLEDGED,
        acknowledged_by="li",
        opened_at=1_000,
        updated_at=61_000,
    )
    (point,) = incident_points(wide)
    assert point.measurement == "incident"
    assert dict(point.tags) == {
        "district": "pudong",
        "street": "*",
        "hazard": "flood",
        "level": "red",
        "state": "acknowledged",
        "scope": "district",
    }
    assert point.fields["open_s"] == 60.0
    assert point.fields["acknowledged_by"] == "li"
    assert point.time_ms == 61_000
