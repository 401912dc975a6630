from __future__ import annotations

import math
from typing import Any

import pytest

from edge.config import SensorConfig
from edge.validate import FaultReason, TimeLimits, validate
from streetwatch.messages import Quality

NOW = 1_700_000_000_000
MIN = 60_000
HOUR = 60 * MIN


def sensor(kind: str) -> SensorConfig:
    return SensorConfig.model_validate(
        {"id": "s1", "kind": kind, "source": {"ecosystem": "json", "device": "d1"}}
    )


WATER = sensor("water_level")
HYDRANT = sensor("hydrant")


@pytest.mark.parametrize(
    ("values", "good", "faults"),
    [
        ({"depth": 12.5, "water_leak": False}, {"depth": 12.5, "water_leak": False}, []),
        ({"depth": 0, "battery": 100}, {"depth": 0.0, "battery": 100.0}, []),
        ({"depth": 500.0}, {"depth": 500.0}, []),
        ({"depth": math.nan}, None, [("nan", "depth")]),
        ({"depth": math.inf}, None, [("nan", "depth")]),
        ({"depth": -math.inf}, None, [("nan", "depth")]),
        ({"depth": 500.1}, None, [("out_of_range", "depth")]),
        ({"depth": -0.5}, None, [("out_of_range", "depth")]),
        ({"depth": True}, None, [("wrong_type", "depth")]),
        ({"water_leak": 1}, None, [("wrong_type", "water_leak")]),
        ({"water_leak": 0.0}, None, [("wrong_type", "water_leak")]),
        ({"depth": "12"}, None, [("wrong_type", "depth")]),
        ({"temperature": 21.0}, None, [("unknown_metric", "temperature")]),
        (
            {"depth": 10.0, "battery": 150.0, "water_leak": "yes"},
            {"depth": 10.0},
            [("out_of_range", "battery"), ("wrong_type", "water_leak")],
        ),
        ({"depth": 10.0, "Depth": 3.0}, {"depth": 10.0}, [("unknown_metric", "Depth")]),
    ],
)
def test_values(
    values: dict[str, Any], good: dict[str, Any] | None, faults: list[tuple[str, str]]
) -> None:
    result = validate(WATER, values, NOW - 1000, NOW)
    assert [(f.reason.value, f.metric) for f in result.faults] == faults
    assert result.ok is (not faults)
    if good is None:
        assert result.reading is None
        return
    assert result.reading is not None
    assert result.reading.values == good
    assert result.reading.t == NOW - 1000
    assert result.reading.quality is (Quality.SUSPECT if faults else Quality.GOOD)


@pytest.mark.parametrize(
    ("device_time", "t", "quality", "reason"),
    [
        (None, NOW, Quality.GOOD, None),
        (NOW, NOW, Quality.GOOD, None),
        (NOW - 3 * MIN, NOW - 3 * MIN, Quality.GOOD, None),
        (NOW + 5 * MIN, NOW + 5 * MIN, Quality.GOOD, None),
        (NOW + 5 * MIN + 1, NOW, Quality.GOOD, FaultReason.FUTURE_TIME),
        (NOW + 365 * 24 * HOUR, NOW, Quality.GOOD, FaultReason.FUTURE_TIME),
        (NOW - 24 * HOUR, NOW - 24 * HOUR, Quality.GOOD, None),
        (NOW - 24 * HOUR - 1, NOW, Quality.GOOD, FaultReason.STALE_TIME),
        (0, NOW, Quality.GOOD, FaultReason.STALE_TIME),
    ],
)
def test_device_time(
    device_time: int | None, t: int, quality: Quality, reason: FaultReason | None
) -> None:
    # A clock-skewed device still reports water depth: kept at the receive time, GOOD.
    result = validate(WATER, {"depth": 31.0}, device_time, NOW)
    assert result.reading is not None
    assert (result.reading.t, result.reading.quality) == (t, quality)
    assert [f.reason for f in result.faults] == ([reason] if reason else [])
    assert all(f.metric is None for f in result.faults)


def test_custom_time_limits() -> None:
    limits = TimeLimits(max_future_ms=1000, max_age_ms=MIN)
    ahead = validate(WATER, {"depth": 1.0}, NOW + 1001, NOW, limits)
    late = validate(WATER, {"depth": 1.0}, NOW - MIN - 1, NOW, limits)
    assert [f.reason for f in ahead.faults] == [FaultReason.FUTURE_TIME]
    assert [f.reason for f in late.faults] == [FaultReason.STALE_TIME]


def test_every_metric_faulty_and_a_bad_clock_lists_every_fault() -> None:
    result = validate(HYDRANT, {"pressure": 3.0, "tilt": math.nan}, NOW + HOUR, NOW)
    assert result.reading is None
    assert [f.reason for f in result.faults] == [
        FaultReason.OUT_OF_RANGE,
        FaultReason.NAN,
        FaultReason.FUTURE_TIME,
    ]


def test_faults_carry_sensor_receive_time_and_readable_detail() -> None:
    (fault,) = validate(HYDRANT, {"pressure": 3.0}, None, NOW).faults
    assert (fault.sensor, fault.t, fault.metric) == ("s1", NOW, "pressure")
    assert "3.0" in fault.detail
    assert "0..2.5 MPa" in fault.detail


def test_an_empty_sample_gives_nothing() -> None:
    result = validate(WATER, {}, NOW, NOW)
    assert result.reading is None
    assert result.faults == ()


def test_integers_become_floats_for_the_wire() -> None:
    result = validate(WATER, {"depth": 12}, None, NOW)
    assert result.reading is not None
    assert type(result.reading.values["depth"]) is float
