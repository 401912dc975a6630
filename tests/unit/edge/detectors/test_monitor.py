from __future__ import annotations

import math
from typing import Any

import pytest

from edge.config import SensorConfig
from edge.detectors import DETECTORS, Finding, SensorMonitor
from edge.validate import FaultReason, SensorFault, validate
from streetwatch.anomalies import AnomalyType
from streetwatch.levels import Level
from streetwatch.messages import AnomalyEvent, EventState, Quality, Reading

T0 = 1_700_000_000_000
RAISED, CLEARED = EventState.RAISED, EventState.CLEARED
NONE, BLUE, YELLOW, ORANGE, RED = Level


def sensor(kind: str, **extra: Any) -> SensorConfig:
    return SensorConfig.model_validate(
        {"id": "s1", "kind": kind, "source": {"ecosystem": "json", "device": "d1"}, **extra}
    )


def reading(
    kind: str, t_s: float, quality: Quality = Quality.GOOD, **values: float | bool
) -> Reading:
    return Reading(sensor="s1", kind=kind, t=T0 + int(t_s * 1000), values=values, quality=quality)


def test_registry_order_is_run_order() -> None:
    # The rate detector reads the threshold level of the same sample, so threshold runs first.
    assert list(DETECTORS) == ["threshold", "rate", "stuck", "flags"]


@pytest.mark.parametrize(
    ("kind", "keys"),
    [
        (
            "water_level",
            [
                "threshold:depth:rising",
                "rate:depth",
                "flag:water_leak",
                "flag:battery_low",
                "flag:tamper",
                "offline",
                "fault",
            ],
        ),
        (
            "hydrant",
            [
                "threshold:pressure:falling",
                "threshold:pressure:rising",
                "threshold:tilt:rising",
                "rate:pressure",
                "stuck:pressure",
                "flag:flow",
                "flag:cover_open",
                "flag:battery_low",
                "flag:tamper",
                "offline",
                "fault",
            ],
        ),
        (
            "smoke",
            [
                "threshold:smoke_density:rising",
                "flag:smoke",
                "flag:battery_low",
                "flag:tamper",
                "flag:self_test",
                "offline",
                "fault",
            ],
        ),
    ],
)
def test_detectors_per_kind(kind: str, keys: list[str]) -> None:
    assert list(SensorMonitor(sensor(kind)).keys) == keys


def test_active_and_level() -> None:
    monitor = SensorMonitor(sensor("water_level"))
    for t in (0, 60):
        monitor.observe(reading("water_level", t, depth=16.0, battery_low=True))
    assert sorted(monitor.active) == ["flag:battery_low", "threshold:depth:rising"]
    assert monitor.level is BLUE
    monitor.observe(reading("water_level", 120, water_leak=True))
    assert monitor.level is YELLOW
    monitor.tick(T0 + 10_000_000)  # offline: a device fault, not a hazard
    assert "offline" in monitor.active
    assert monitor.level is YELLOW
    with pytest.raises(TypeError):
        monitor.active["x"] = monitor.active["offline"]  # type: ignore[index]


def test_device_faults_and_self_tests_are_no_hazard_level() -> None:
    monitor = SensorMonitor(sensor("smoke"))
    monitor.observe(reading("smoke", 0, smoke=True, self_test=True, tamper=True))
    assert {f.type for f in monitor.active.values()} == {AnomalyType.SELF_TEST, AnomalyType.TAMPER}
    assert monitor.level is NONE


def fault(t_s: float, reason: FaultReason = FaultReason.NAN, metric: str = "depth") -> SensorFault:
    return SensorFault("s1", reason, "depth = nan", T0 + int(t_s * 1000), metric)


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param(["fault", "fault"], [], id="two-is-not-enough"),
        pytest.param(["fault", "fault", "fault"], [(RAISED, 2)], id="three-in-a-row"),
        pytest.param(["fault", "fault", "good", "fault", "fault"], [], id="a-good-one-resets"),
        pytest.param(
            ["fault", "fault", "fault", "fault", "good"],
            [(RAISED, 2), (CLEARED, 4)],
            id="cleared-by-a-good-reading",
        ),
        pytest.param(
            ["fault", "fault", "suspect", "fault", "suspect"],
            [(RAISED, 3)],
            id="suspect-readings-neither-reset-nor-clear",
        ),
        pytest.param(["double", "double"], [], id="faults-of-one-sample-count-once"),
        pytest.param(["double", "double", "double"], [(RAISED, 2)], id="three-samples-of-two"),
    ],
)
def test_validation_faults(steps: list[str], expected: list[tuple[EventState, int]]) -> None:
    monitor = SensorMonitor(sensor("water_level"))
    found: list[Finding] = []
    for i, step in enumerate(steps):
        if step in ("fault", "double"):
            found += monitor.fault(fault(i), T0 + i * 1000)
        if step == "double":
            found += monitor.fault(fault(i, FaultReason.OUT_OF_RANGE, "battery"), T0 + i * 1000)
        if step in ("good", "suspect"):
            quality = Quality.GOOD if step == "good" else Quality.SUSPECT
            found += monitor.observe(reading("water_level", i, quality, battery=50.0)).findings
    assert all((f.type, f.level, f.key) == (AnomalyType.FAULT, BLUE, "fault") for f in found)
    assert [(f.state, (f.t - T0) // 1000) for f in found] == expected


def test_validate_then_monitor() -> None:
    # The agent's loop: validate, hand faults to the monitor, observe the reading if any.
    config = sensor("water_level")
    monitor = SensorMonitor(config)
    found: list[Finding] = []
    for i, values in enumerate([{"depth": math.nan}] * 3 + [{"depth": 3.0}]):
        now = T0 + i * 60_000
        result = validate(config, values, None, now)
        for f in result.faults:
            found += monitor.fault(f, now)
        if result.reading is not None:
            found += monitor.observe(result.reading, now).findings
    assert [(f.type, f.state) for f in found] == [
        (AnomalyType.FAULT, RAISED),
        (AnomalyType.FAULT, CLEARED),
    ]


def test_late_and_repeated_readings() -> None:
    monitor = SensorMonitor(sensor("water_level", detection={"raise_samples": 1}))
    first = monitor.observe(reading("water_level", 60, depth=10.0))
    assert len(first.forwarded) == 1
    late = monitor.observe(reading("water_level", 30, depth=40.0))
    assert late.findings == ()  # never fed to the detectors...
    assert [r.t for r in late.forwarded] == [T0 + 30_000]  # ...but reported
    assert monitor.last_values["depth"] == 10.0
    repeat = monitor.observe(reading("water_level", 60, depth=10.0))
    assert (repeat.findings, repeat.forwarded) == ((), ())
    same_time = monitor.observe(reading("water_level", 60, water_leak=True))
    assert [f.type for f in same_time.findings] == [AnomalyType.ALARM_FLAG]
    assert monitor.last_values["depth"] == 10.0
    assert monitor.last_seen_ms == T0 + 60_000


def test_no_duplicate_transitions_reach_the_caller() -> None:
    monitor = SensorMonitor(sensor("smoke"))
    found: list[Finding] = []
    for t in range(0, 600, 5):
        found += monitor.observe(reading("smoke", t, smoke=True)).findings
        found += monitor.tick(T0 + t * 1000 + 1).findings
    assert [(f.type, f.state) for f in found] == [(AnomalyType.ALARM_FLAG, RAISED)]


def test_every_finding_makes_a_valid_event() -> None:
    # Findings must fit the wire model: metric names, finite numbers, detail ≤ 200 characters.
    config = sensor("hydrant", detection={"stuck_after_s": 60})
    monitor = SensorMonitor(config)
    found: list[Finding] = []
    steps: list[dict[str, float | bool]] = [
        {"pressure": 0.3, "tilt": 2.0, "flow": False},
        {"pressure": 0.25, "tilt": 50.0, "flow": True, "cover_open": True},
        {"pressure": 0.12, "tilt": 50.0, "tamper": True, "battery_low": True},
        {"pressure": 0.08, "tilt": 50.0},
        {"pressure": 0.08, "tilt": 50.0},
        {"pressure": 0.3, "tilt": 1.0, "flow": False, "cover_open": False},
    ]
    for i, values in enumerate(steps):
        r = Reading(sensor="s1", kind="hydrant", t=T0 + i * 60_000, values=values)
        found += monitor.observe(r).findings
    found += monitor.fault(fault(400, FaultReason.UNKNOWN_METRIC, "Weird Name"), T0)
    found += monitor.fault(fault(401, FaultReason.UNKNOWN_METRIC, "Weird Name"), T0)
    found += monitor.fault(fault(402, FaultReason.UNKNOWN_METRIC, "Weird Name"), T0)
    found += monitor.tick(T0 + 10**8).findings
    found += monitor.availability(False, T0 + 10**8)
    assert {f.type for f in found} >= {
        AnomalyType.THRESHOLD,
        AnomalyType.RATE_OF_CHANGE,
        AnomalyType.ALARM_FLAG,
        AnomalyType.TAMPER,
        AnomalyType.BATTERY_LOW,
        AnomalyType.STUCK,
        AnomalyType.FAULT,
        AnomalyType.OFFLINE,
    }
    for i, f in enumerate(found):
        AnomalyEvent(
            id=f"e{i}",
            gateway="gw",
            boot="0123abcd",
            seq=i,
            sensor="s1",
            kind=config.kind,
            type=f.type,
            level=f.level,
            state=f.state,
            t=f.t,
            metric=f.metric,
            value=f.value,
            threshold=f.threshold,
            detail=f.detail,
        )
