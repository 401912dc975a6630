from __future__ import annotations

from typing import Any

import orjson
import pytest
from pydantic import BaseModel, ValidationError

from streetwatch.anomalies import AnomalyType
from streetwatch.codec import decode, decode_channel, encode
from streetwatch.kinds import KindName
from streetwatch.levels import Level
from streetwatch.location import Area, Coordinates, Placement, RiskPoint
from streetwatch.messages import (
    COMMAND_MODELS,
    SCHEMA_VERSION,
    AlertMode,
    AnomalyEvent,
    Confirm,
    EventState,
    GatewayHealth,
    GatewayState,
    MetricStats,
    Ping,
    Quality,
    Reading,
    Rebirth,
    ReloadConfig,
    Resend,
    SensorInfo,
    SilenceSiren,
    TelemetryBatch,
    WindowSummary,
)
from streetwatch.topics import Channel

T0 = 1_700_000_000_000
BOOT = "0123abcd"

BATCH = TelemetryBatch(
    gateway="gw-1",
    boot=BOOT,
    seq=41,
    sent=T0 + 5000,
    readings=(
        Reading(sensor="wl-1", kind=KindName.WATER_LEVEL, t=T0, values={"depth": 12.5}),
        Reading(
            sensor="wl-1",
            kind=KindName.WATER_LEVEL,
            t=T0 + 1000,
            values={"depth": 31.0, "water_leak": True, "battery": 87},
            quality=Quality.SUSPECT,
        ),
        Reading(sensor="smoke-1", kind=KindName.SMOKE, t=T0, values={"smoke": False}),
    ),
    summaries=(
        WindowSummary(
            sensor="gas-1",
            kind=KindName.GAS,
            start=T0 - 300_000,
            end=T0,
            stats={"lel": MetricStats(min=0.0, max=3.5, mean=1.25, last=2.0, count=5)},
            flags={"gas": False, "battery_low": True},
        ),
        WindowSummary(
            sensor="hyd-1",
            kind=KindName.HYDRANT,
            start=T0,
            end=T0,
            stats={"pressure": MetricStats(min=0.3, max=0.3, mean=0.3, last=0.3, count=1)},
        ),
    ),
    replayed=True,
)

EVENT = AnomalyEvent(
    id="gw-1:0123abcd:event:7",
    gateway="gw-1",
    boot=BOOT,
    seq=7,
    sensor="wl-1",
    kind=KindName.WATER_LEVEL,
    type=AnomalyType.THRESHOLD,
    level=Level.ORANGE,
    state=EventState.RAISED,
    t=T0,
    metric="depth",
    value=31.0,
    threshold=30.0,
    detail="积水 31 cm",
)

STATE = GatewayState(
    gateway="gw-1",
    area=Area(district="pudong", street="huamu", community="lianyang"),
    online=True,
    boot=BOOT,
    t=T0,
    software="0.1.0",
    config_hash="ab" * 32,
    sensors=(
        SensorInfo(
            id="wl-1",
            kind=KindName.WATER_LEVEL,
            placement=Placement(
                building="b12",
                floor=-1,
                coordinates=Coordinates(lat=31.2, lon=121.5),
                risk_point=RiskPoint.UNDERGROUND_GARAGE,
            ),
            report_interval_s=60,
            offline_after_s=300,
        ),
        SensorInfo(id="smoke-1", kind=KindName.SMOKE, report_interval_s=300, offline_after_s=900),
    ),
)

HEALTH = GatewayHealth(
    gateway="gw-1",
    boot=BOOT,
    seq=3,
    t=T0,
    uptime_s=3600.5,
    reconnects=2,
    buffer_depth={"alarm": 0, "telemetry": 120},
    dropped={"overflow": 4},
    rejected={"schema": 1},
    last_seen={"wl-1": T0 - 1000, "smoke-1": T0 - 200_000},
)

MESSAGES: list[BaseModel] = [
    BATCH,
    TelemetryBatch(
        gateway="gw-1", boot=BOOT, seq=0, sent=T0, readings=BATCH.readings[:1], replayed=False
    ),
    TelemetryBatch(gateway="gw-1", boot=BOOT, seq=0, sent=T0, summaries=BATCH.summaries[:1]),
    EVENT,
    AnomalyEvent(
        id="e-2",
        gateway="gw-1",
        boot=BOOT,
        seq=8,
        sensor="smoke-1",
        kind=KindName.SMOKE,
        type=AnomalyType.ALARM_FLAG,
        level=Level.NONE,
        state=EventState.CLEARED,
        t=T0,
        metric="smoke",
        value=False,
    ),
    AnomalyEvent(
        id="e-3",
        gateway="gw-1",
        boot=BOOT,
        seq=9,
        sensor="smoke-1",
        kind=KindName.SMOKE,
        type=AnomalyType.TEST,
        level=Level.RED,
        state=EventState.RAISED,
        t=T0,
        test=True,
        replayed=True,
    ),
    STATE,
    GatewayState(
        gateway="gw-1",
        area=STATE.area,
        online=False,
        boot=BOOT,
        t=T0,
    ),
    HEALTH,
    GatewayHealth(gateway="gw-1", boot=BOOT, seq=0, t=T0, uptime_s=0),
]

COMMANDS: list[BaseModel] = [
    AlertMode(t=T0, on=True, until=T0 + 3_600_000, reason="暴雨红色预警"),
    AlertMode(t=T0, on=False),
    Ping(t=T0, nonce="n-1"),
    Ping(t=T0),
    Rebirth(t=T0),
    SilenceSiren(t=T0, until=T0 + 60_000),
    SilenceSiren(t=T0),
    ReloadConfig(t=T0),
    Confirm(t=T0, boot=BOOT, channel="data", ranges=((0, 10), (12, 12))),
    Resend(t=T0, boot=BOOT, channel="event", ranges=((3, 5),)),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_round_trip(message: BaseModel) -> None:
    payload = encode(message)
    assert isinstance(payload, bytes)
    decoded = decode(payload, type(message))
    assert decoded == message
    assert type(decoded) is type(message)
    # Encoding is deterministic: the decoded message encodes to the very same bytes.
    assert encode(decoded) == payload


@pytest.mark.parametrize(
    ("message", "channel"),
    [
        (BATCH, Channel.DATA),
        (EVENT, Channel.EVENT),
        (STATE, Channel.STATE),
        (HEALTH, Channel.HEALTH),
    ],
    ids=lambda v: str(v) if isinstance(v, Channel) else type(v).__name__,
)
def test_round_trip_by_channel(message: BaseModel, channel: Channel) -> None:
    assert decode_channel(encode(message), channel) == message


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: type(c).__name__)
def test_every_command_round_trips_through_the_cmd_channel(command: BaseModel) -> None:
    decoded = decode_channel(encode(command), Channel.CMD)
    assert decoded == command
    assert type(decoded) is type(command)


def test_every_command_model_is_covered() -> None:
    assert {type(c) for c in COMMANDS} == set(COMMAND_MODELS.values())
    for name, model in COMMAND_MODELS.items():
        assert model.model_fields["command"].default == name


def test_the_wire_form_is_plain_json() -> None:
    wire = orjson.loads(encode(EVENT))
    assert wire["v"] == SCHEMA_VERSION == 1
    assert wire["msg"] == "event"
    assert wire["level"] == "orange"
    assert wire["type"] == "threshold"
    assert wire["kind"] == "water_level"
    assert wire["detail"] == "积水 31 cm"


def test_flags_stay_booleans_and_numbers_stay_numbers() -> None:
    decoded = decode(encode(BATCH), TelemetryBatch)
    values = decoded.readings[1].values
    assert values["water_leak"] is True
    assert isinstance(values["depth"], float)
    assert decoded.readings[2].values["smoke"] is False


def test_confirm_ranges_come_back_as_tuples() -> None:
    command = decode_channel(
        b'{"v":1,"t":1,"command":"confirm","boot":"0123abcd","channel":"data","ranges":[[0,4]]}',
        Channel.CMD,
    )
    assert isinstance(command, Confirm)
    assert command.ranges == ((0, 4),)


# ---------------------------------------------------------------------------------------------
# Models refuse what the protocol does not allow.


@pytest.mark.parametrize(
    ("message", "field", "value"),
    [
        (BATCH, "seq", 42),
        (BATCH, "readings", ()),
        (EVENT, "level", Level.RED),
        (STATE, "online", False),
        (HEALTH, "reconnects", 3),
        (COMMANDS[0], "on", False),
        (BATCH.readings[0], "values", {}),
    ],
)
def test_frozen_models_cannot_be_mutated(message: BaseModel, field: str, value: Any) -> None:
    with pytest.raises(ValidationError, match="frozen"):
        setattr(message, field, value)
    assert getattr(message, field) != value


def test_nested_values_cannot_be_replaced_either() -> None:
    with pytest.raises(ValidationError, match="frozen"):
        BATCH.summaries[0].stats["lel"].min = -1  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        STATE.sensors[0].placement.floor = 3  # type: ignore[misc]


def _event(**changes: Any) -> dict[str, Any]:
    data = EVENT.model_dump(mode="json")
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"type": "test"}, "test=true"),
        ({"value": float("nan")}, "value"),
        ({"threshold": float("inf")}, "threshold"),
        ({"detail": "x" * 201}, "detail"),
        ({"id": "has space"}, "id"),
        ({"metric": "Depth"}, "metric"),
        ({"level": "critical"}, "level"),
        ({"sensor": "WL-1"}, "sensor"),
        ({"t": -1}, "t"),
        ({"t": 2**53}, "t"),
        ({"boot": "xyz"}, "boot"),
        ({"boot": "0123ABCD"}, "boot"),
    ],
)
def test_event_model_refuses(changes: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValidationError, match=expected):
        AnomalyEvent.model_validate(_event(**changes))


def test_test_event_with_test_flag_is_fine() -> None:
    event = AnomalyEvent.model_validate(_event(type="test", test=True))
    assert not event.type.pages_responders


@pytest.mark.parametrize(
    ("stats", "valid"),
    [
        ({"min": 0, "max": 1, "mean": 0.5, "last": 1, "count": 2}, True),
        ({"min": 1, "max": 1, "mean": 1, "last": 1, "count": 1}, True),
        ({"min": 2, "max": 1, "mean": 1.5, "last": 1.5, "count": 2}, False),
        ({"min": 0, "max": 1, "mean": 2, "last": 1, "count": 2}, False),
        ({"min": 0, "max": 1, "mean": 0.5, "last": -1, "count": 2}, False),
        ({"min": 0, "max": 1, "mean": 0.5, "last": 1, "count": 0}, False),
    ],
)
def test_metric_stats_must_be_ordered(stats: dict[str, Any], valid: bool) -> None:
    if valid:
        MetricStats.model_validate(stats)
        return
    with pytest.raises(ValidationError):
        MetricStats.model_validate(stats)


def test_window_summary_needs_something() -> None:
    with pytest.raises(ValidationError, match="statistics or flags"):
        WindowSummary(sensor="s", kind=KindName.GAS, start=0, end=1)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"report_interval_s": 0, "offline_after_s": 10}, "report_interval_s"),
        ({"report_interval_s": 60, "offline_after_s": 8 * 86400}, "offline_after_s"),
        ({"report_interval_s": 60, "offline_after_s": 300, "kind": "thermometer"}, "kind"),
    ],
)
def test_sensor_info_refuses(fields: dict[str, Any], expected: str) -> None:
    data: dict[str, Any] = {"id": "s-1", "kind": "smoke", **fields}
    with pytest.raises(ValidationError, match=expected):
        SensorInfo.model_validate(data)
