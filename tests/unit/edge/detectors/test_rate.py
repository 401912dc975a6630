from __future__ import annotations

from typing import Any

import pytest

from edge.config import SensorConfig
from edge.detectors.base import Finding
from edge.detectors.monitor import SensorMonitor
from edge.detectors.rate import RateDetector, rates, slope_per_minute
from streetwatch.anomalies import AnomalyType
from streetwatch.levels import Level
from streetwatch.messages import EventState, Reading

T0 = 1_700_000_000_000
RATE, THR = AnomalyType.RATE_OF_CHANGE, AnomalyType.THRESHOLD
RAISED, CLEARED = EventState.RAISED, EventState.CLEARED
NONE, BLUE, YELLOW, ORANGE, RED = Level


def sensor(kind: str, **extra: Any) -> SensorConfig:
    return SensorConfig.model_validate(
        {"id": "s1", "kind": kind, "source": {"ecosystem": "json", "device": "d1"}, **extra}
    )


def reading(config: SensorConfig, t_s: float, **values: float) -> Reading:
    return Reading(sensor="s1", kind=config.kind, t=T0 + int(t_s * 1000), values=values)


def ramp(step_s: float, per_minute: float, n: int, start: float = 0) -> list[tuple[float, float]]:
    return [(i * step_s, start + per_minute * i * step_s / 60) for i in range(n)]


def detector(config: SensorConfig) -> RateDetector:
    (det,) = rates(config, {})
    return det


def feed(
    det: RateDetector, config: SensorConfig, metric: str, samples: list[tuple[float, float]]
) -> list[Finding]:
    found: list[Finding] = []
    for t_s, v in samples:
        found += det.observe(reading(config, t_s, **{metric: v}))
    return found


def test_slope_is_least_squares_per_minute() -> None:
    assert slope_per_minute([(0, 0.0), (60_000, 3.0), (120_000, 6.0)]) == pytest.approx(3.0)
    assert slope_per_minute([(0, 1.0), (30_000, 0.0), (60_000, 1.0)]) == pytest.approx(0.0)
    assert slope_per_minute([(0, 5.0), (0, 6.0)]) == 0.0


WATER = sensor("water_level")  # depth: ≥ 2 cm/min over 180 s → blue, only below yellow
GAS = sensor("gas")  # lel: ≥ 1 %LEL/min over 300 s → blue, only below yellow
HYDRANT = sensor("hydrant")  # pressure: ≤ −0.05 MPa/min over 120 s → blue


@pytest.mark.parametrize(
    ("config", "metric", "samples", "expected"),
    [
        pytest.param(WATER, "depth", [(i * 60, 5.0) for i in range(10)], [], id="flat"),
        pytest.param(WATER, "depth", ramp(60, 1.0, 10), [], id="slow-rise"),
        pytest.param(WATER, "depth", ramp(60, -3.0, 10, start=40), [], id="falling-water"),
        pytest.param(WATER, "depth", ramp(60, 3.0, 3), [(BLUE, RAISED, 120)], id="3-cm-per-min"),
        pytest.param(
            WATER, "depth", ramp(30, 3.0, 3), [], id="three-samples-span-under-half-window"
        ),
        pytest.param(WATER, "depth", ramp(60, 30.0, 2), [], id="two-samples-are-not-enough"),
        pytest.param(
            WATER,
            "depth",
            [*ramp(60, 3.0, 4), (240, 9.0), (300, 9.0), (360, 9.0), (420, 9.0)],
            [(BLUE, RAISED, 120), (BLUE, CLEARED, 300)],
            id="rise-then-stop",
        ),
        pytest.param(
            WATER,
            "depth",
            [(0, 0.0), (60, 2.0), (120, 4.0), (180, 5.2), (240, 6.4), (300, 7.6)],
            [(BLUE, RAISED, 120)],
            id="slower-but-above-half-rate-holds",
        ),
        pytest.param(GAS, "lel", ramp(60, 1.5, 4), [(BLUE, RAISED, 180)], id="gas-climbing"),
        pytest.param(
            HYDRANT,
            "pressure",
            ramp(30, -0.1, 4, start=0.35),
            [(BLUE, RAISED, 60)],
            id="pressure-dropping",
        ),
        pytest.param(HYDRANT, "pressure", ramp(30, 0.1, 4, start=0.2), [], id="pressure-rising"),
    ],
)
def test_rate_of_change(
    config: SensorConfig,
    metric: str,
    samples: list[tuple[float, float]],
    expected: list[tuple[Level, EventState, int]],
) -> None:
    found = feed(detector(config), config, metric, samples)
    assert all(f.type is RATE and f.key == f"rate:{metric}" for f in found)
    assert [(f.level, f.state, (f.t - T0) // 1000) for f in found] == expected


def test_cleared_on_tick_when_samples_stop() -> None:
    det = detector(WATER)
    assert [f.state for f in feed(det, WATER, "depth", ramp(60, 3.0, 3))] == [RAISED]
    assert det.tick(T0 + 180_000) == []  # samples at 60 and 120 s are still in the window
    (f,) = det.tick(T0 + 240_001)
    assert (f.state, f.t) == (CLEARED, T0 + 240_001)


def test_switched_off_by_config() -> None:
    assert rates(sensor("water_level", detection={"rate_of_change": False}), {}) == []
    assert rates(sensor("smoke"), {}) == []


def test_water_ramp_warns_before_15_cm_and_is_superseded_by_thresholds() -> None:
    # 3 cm/min from 0 cm, a sample a minute: the early warning comes at 6 cm; thresholds take
    # over from 15 cm (blue: both stay) and at 25 cm (yellow) the early warning is cleared.
    monitor = SensorMonitor(WATER)
    found: list[Finding] = []
    for t_s, depth in ramp(60, 3.0, 20):
        found += monitor.observe(reading(WATER, t_s, depth=depth)).findings
    assert [(f.type, f.level, f.state, f.value) for f in found] == [
        (RATE, BLUE, RAISED, 6.0),
        (THR, BLUE, RAISED, 18.0),
        (THR, YELLOW, RAISED, 30.0),
        (RATE, BLUE, CLEARED, 30.0),
        (THR, ORANGE, RAISED, 33.0),
        (THR, RED, RAISED, 54.0),
    ]
    assert "superseded" in found[3].detail
    assert list(monitor.active) == ["threshold:depth:rising"]


def test_no_early_warning_once_thresholds_are_at_yellow() -> None:
    monitor = SensorMonitor(WATER)
    samples = [(0, 26.0), (60, 26.0), *((60 + t, 26 + d) for t, d in ramp(60, 3.0, 4)[1:])]
    found: list[Finding] = []
    for t_s, depth in samples:
        found += monitor.observe(reading(WATER, t_s, depth=depth)).findings
    assert [(f.type, f.level) for f in found] == [(THR, YELLOW), (THR, ORANGE)]
