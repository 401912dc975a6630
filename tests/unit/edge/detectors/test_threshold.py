from __future__ import annotations

import math
import random
from typing import Any

import pytest

from edge.config import SensorConfig
from edge.detectors.base import Finding
from edge.detectors.threshold import ThresholdDetector, thresholds
from streetwatch.anomalies import AnomalyType
from streetwatch.levels import Level
from streetwatch.messages import EventState, Reading

T0 = 1_700_000_000_000
THR = AnomalyType.THRESHOLD
RAISED, CLEARED = EventState.RAISED, EventState.CLEARED
NONE, BLUE, YELLOW, ORANGE, RED = Level
Expected = list[tuple[Level, EventState]]


def sensor(kind: str, **extra: Any) -> SensorConfig:
    return SensorConfig.model_validate(
        {"id": "s1", "kind": kind, "source": {"ecosystem": "json", "device": "d1"}, **extra}
    )


def detectors(config: SensorConfig) -> dict[str, ThresholdDetector]:
    return {d.key: d for d in thresholds(config, {})}


def run(config: SensorConfig, metric: str, samples: list[tuple[float, float]]) -> list[Finding]:
    """Feed (t in s, value) samples to every threshold detector of the sensor."""
    found: list[Finding] = []
    dets = detectors(config).values()
    for t_s, value in samples:
        reading = Reading(
            sensor="s1", kind=config.kind, t=T0 + int(t_s * 1000), values={metric: value}
        )
        for d in dets:
            found += d.observe(reading)
    return found


def every(seconds: float, values: list[float], start: float = 0) -> list[tuple[float, float]]:
    return [(start + i * seconds, v) for i, v in enumerate(values)]


def summary(found: list[Finding]) -> Expected:
    assert all(f.type is THR for f in found)
    return [(f.level, f.state) for f in found]


WATER = sensor("water_level")

# Water depth: blue 15, yellow 25, orange 30, red 50 cm, hysteresis 2 cm; defaults raise after
# 2 samples, clear after 3 samples and 60 s. Samples every minute unless stated.
DEPTH_CASES = [
    pytest.param([10, 12, 14, 10], [], id="never-reaches-blue"),
    pytest.param([10, 16, 10, 16, 10], [], id="one-sample-beyond-is-not-enough"),
    pytest.param([10, 15, 15], [(BLUE, RAISED)], id="at-the-threshold-counts"),
    pytest.param(
        [10, 16, 16, 26, 26, 31, 31, 51, 51],
        [(BLUE, RAISED), (YELLOW, RAISED), (ORANGE, RAISED), (RED, RAISED)],
        id="up-through-every-level",
    ),
    pytest.param(
        [51, 51, 45, 45, 45, 20, 20, 20, 5, 5, 5],
        [(RED, RAISED), (ORANGE, RAISED), (BLUE, RAISED), (BLUE, CLEARED)],
        id="down-through-levels",
    ),
    pytest.param([0, 60, 60, 0, 0, 0], [(RED, RAISED), (RED, CLEARED)], id="straight-to-red"),
    pytest.param(
        [0, 26, 60, 60], [(YELLOW, RAISED), (RED, RAISED)], id="escalates-as-levels-persist"
    ),
    pytest.param([0, 26, 31, 26, 31], [(YELLOW, RAISED)], id="orange-never-persists"),
    pytest.param([16, 16, 14, 14, 13, 14, 13.5], [(BLUE, RAISED)], id="hysteresis-band-holds"),
    pytest.param(
        [16, 16, 12.9, 12.9, 12.9], [(BLUE, RAISED), (BLUE, CLEARED)], id="below-band-clears"
    ),
    pytest.param(
        [16, 16, 12, 12, 14, 12, 12, 12],
        [(BLUE, RAISED), (BLUE, CLEARED)],
        id="clear-run-restarts-after-band",
    ),
    pytest.param([31, 31, 29, 29, 29], [(ORANGE, RAISED)], id="orange-held-within-hysteresis"),
    pytest.param([31, 31, 27, 29, 27.5], [(ORANGE, RAISED)], id="de-escalation-run-broken-by-band"),
    pytest.param(
        [31, 31, 27, 27.5, 26, 26], [(ORANGE, RAISED), (YELLOW, RAISED)], id="de-escalate-to-yellow"
    ),
    pytest.param(
        [51, 51, 12, 40, 12],
        [(RED, RAISED), (ORANGE, RAISED)],
        id="de-escalates-only-as-far-as-the-run-held",
    ),
]


@pytest.mark.parametrize(("values", "expected"), DEPTH_CASES)
def test_depth_levels(values: list[float], expected: Expected) -> None:
    assert summary(run(WATER, "depth", every(60, values))) == expected


@pytest.mark.parametrize(
    ("detection", "samples", "expected"),
    [
        pytest.param({}, every(10, [20, 20]), [(BLUE, RAISED, 10)], id="two-samples-default"),
        pytest.param(
            {"raise_samples": 5}, every(10, [20] * 5), [(BLUE, RAISED, 40)], id="five-samples"
        ),
        pytest.param(
            {"raise_samples": 5, "raise_after_s": 30},
            every(10, [20] * 5),
            [(BLUE, RAISED, 30)],
            id="seconds-come-first",
        ),
        pytest.param(
            {"raise_samples": 2, "raise_after_s": 300},
            every(10, [20] * 5),
            [(BLUE, RAISED, 10)],
            id="samples-come-first",
        ),
        pytest.param({"raise_samples": 1}, every(10, [10, 20]), [(BLUE, RAISED, 10)], id="at-once"),
        pytest.param(
            {},
            every(10, [20, 20, 0, 0, 0, 0, 0, 0, 0, 0]),
            [(BLUE, RAISED, 10), (BLUE, CLEARED, 80)],
            id="clear-waits-60-s-from-the-first-sample-below",
        ),
        pytest.param(
            {"clear_after_s": 0},
            every(10, [20, 20, 0, 0, 0]),
            [(BLUE, RAISED, 10), (BLUE, CLEARED, 40)],
            id="clear-by-samples-only",
        ),
        pytest.param(
            {"clear_samples": 5, "clear_after_s": 0},
            every(100, [20, 20, 0, 0, 0, 0, 0]),
            [(BLUE, RAISED, 100), (BLUE, CLEARED, 600)],
            id="clear-needs-samples-even-after-long-time",
        ),
    ],
)
def test_persistence(
    detection: dict[str, Any],
    samples: list[tuple[float, float]],
    expected: list[tuple[Level, EventState, int]],
) -> None:
    found = run(sensor("water_level", detection=detection), "depth", samples)
    assert [(f.level, f.state, (f.t - T0) // 1000) for f in found] == expected


def test_seconds_persistence_is_checked_on_tick() -> None:
    # A device that reports only on change says 20 cm once and then nothing.
    (det,) = detectors(
        sensor("water_level", detection={"raise_samples": 3, "raise_after_s": 30})
    ).values()
    assert det.observe(Reading(sensor="s1", kind="water_level", t=T0, values={"depth": 20.0})) == []
    assert det.tick(T0 + 29_999) == []
    (f,) = det.tick(T0 + 30_000)
    assert (f.level, f.state, f.t) == (BLUE, RAISED, T0 + 30_000)
    assert det.tick(T0 + 90_000) == []


def test_clear_time_is_checked_on_tick() -> None:
    (det,) = detectors(
        sensor("water_level", detection={"raise_samples": 1, "clear_samples": 1})
    ).values()
    for t, depth in ((0, 20.0), (10_000, 1.0)):
        det.observe(Reading(sensor="s1", kind="water_level", t=T0 + t, values={"depth": depth}))
    assert det.tick(T0 + 69_999) == []
    (f,) = det.tick(T0 + 70_000)
    assert (f.level, f.state) == (BLUE, CLEARED)


def flapping(name: str) -> list[float]:
    if name == "sine-inside-hysteresis":
        return [25 + 1.9 * math.sin(i * 0.7) for i in range(200)]
    if name == "random-inside-hysteresis":
        rng = random.Random(7)
        return [26.0, 26.0] + [rng.uniform(23.2, 26.8) for _ in range(198)]
    if name == "alternating-across-the-band":
        return [26.0, 26.0] + [20.0, 26.0] * 99
    if name == "pairs-below-the-band":
        return [26.0, 26.0] + [20.0, 20.0, 26.0] * 66
    raise AssertionError(name)


@pytest.mark.parametrize(
    "pattern",
    [
        "sine-inside-hysteresis",
        "random-inside-hysteresis",
        "alternating-across-the-band",
        "pairs-below-the-band",
    ],
)
def test_flapping_around_a_threshold_raises_once(pattern: str) -> None:
    values = flapping(pattern)
    assert len(values) == 200
    # 200 flapping samples, then the water really goes down.
    found = run(WATER, "depth", every(10, [*values, 0, 0, 0, 0, 0, 0, 0]))
    assert summary(found) == [(YELLOW, RAISED), (YELLOW, CLEARED)]
    assert found[0].t < T0 + 200 * 10_000 <= found[1].t


# Hydrant pressure falls: yellow ≤ 0.14, orange ≤ 0.10, red ≤ 0.05 MPa, hysteresis 0.01;
# and rises: yellow ≥ 1.0 MPa (water hammer), hysteresis 0.05.
@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param([0.3, 0.3, 0.3], [], id="normal"),
        pytest.param(
            [0.3, 0.12, 0.12, 0.08, 0.08],
            [("falling", YELLOW, RAISED), ("falling", ORANGE, RAISED)],
            id="0.3-0.12-0.08",
        ),
        pytest.param(
            [0.08, 0.08, 0.105, 0.105, 0.105, 0.3, 0.3, 0.3],
            [("falling", ORANGE, RAISED), ("falling", ORANGE, CLEARED)],
            id="recovery-inside-band-then-out",
        ),
        pytest.param(
            [0.08, 0.08, 0.13, 0.13, 0.13],
            [("falling", ORANGE, RAISED), ("falling", YELLOW, RAISED)],
            id="partial-recovery",
        ),
        pytest.param([0.0, 0.0], [("falling", RED, RAISED)], id="dry"),
        pytest.param(
            [0.3, 1.2, 1.2, 0.96, 0.96, 0.9, 0.9, 0.9],
            [("rising", YELLOW, RAISED), ("rising", YELLOW, CLEARED)],
            id="water-hammer",
        ),
    ],
)
def test_hydrant_pressure(
    values: list[float], expected: list[tuple[str, Level, EventState]]
) -> None:
    found = run(sensor("hydrant"), "pressure", every(60, values))
    assert [(f.key.split(":")[-1], f.level, f.state) for f in found] == expected


@pytest.mark.parametrize(
    ("overrides", "values", "expected"),
    [
        pytest.param([], [12, 12], [], id="default-blue-is-15"),
        pytest.param(
            [{"metric": "depth", "levels": {"blue": 10}}],
            [12, 12],
            [(BLUE, RAISED)],
            id="blue-lowered-to-10",
        ),
        pytest.param(
            [{"metric": "depth", "levels": {"red": 40}}],
            [45, 45],
            [(RED, RAISED)],
            id="red-lowered-to-40",
        ),
        pytest.param(
            [{"metric": "depth", "levels": {"blue": 10}, "hysteresis": 0.5}],
            [12, 12, 9.6, 9.6, 9.6],
            [(BLUE, RAISED)],
            id="narrower-hysteresis-holds",
        ),
        pytest.param(
            [{"metric": "depth", "levels": {"blue": 10}, "hysteresis": 0.5}],
            [12, 12, 9.4, 9.4, 9.4],
            [(BLUE, RAISED), (BLUE, CLEARED)],
            id="narrower-hysteresis-clears",
        ),
    ],
)
def test_threshold_overrides(
    overrides: list[dict[str, Any]], values: list[float], expected: Expected
) -> None:
    config = sensor("water_level", thresholds=overrides)
    assert summary(run(config, "depth", every(60, values))) == expected


def test_findings_say_what_crossed_what() -> None:
    found = run(WATER, "depth", every(60, [26, 26.5]))
    (f,) = found
    assert f.key == "threshold:depth:rising"
    assert (f.metric, f.value, f.threshold) == ("depth", 26.5, 25)
    assert "25" in f.detail
    assert "yellow" in f.detail


def test_other_metrics_and_flags_are_ignored() -> None:
    found = run(sensor("hydrant"), "flow", every(60, [1.0, 1.0]))
    assert found == []


def test_one_detector_per_rule() -> None:
    assert sorted(detectors(sensor("hydrant"))) == [
        "threshold:pressure:falling",
        "threshold:pressure:rising",
        "threshold:tilt:rising",
    ]
    assert sorted(detectors(sensor("smoke"))) == ["threshold:smoke_density:rising"]
