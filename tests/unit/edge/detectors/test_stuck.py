from __future__ import annotations

from typing import Any

import pytest

from edge.config import SensorConfig
from edge.detectors.stuck import stuck
from streetwatch.anomalies import AnomalyType
from streetwatch.levels import Level
from streetwatch.messages import EventState, Reading

T0 = 1_700_000_000_000
HOUR = 3600
RAISED, CLEARED = EventState.RAISED, EventState.CLEARED


def sensor(kind: str, **extra: Any) -> SensorConfig:
    return SensorConfig.model_validate(
        {"id": "s1", "kind": kind, "source": {"ecosystem": "json", "device": "d1"}, **extra}
    )


def every(seconds: int, values: list[float]) -> list[tuple[int, float]]:
    return [(i * seconds, v) for i, v in enumerate(values)]


HYDRANT = sensor("hydrant")  # pressure; stuck after 6 h by default


@pytest.mark.parametrize(
    ("config", "samples", "expected"),
    [
        pytest.param(
            HYDRANT, every(HOUR, [0.3] * 7), [(RAISED, 6 * HOUR)], id="hydrant-six-hours-flat"
        ),
        pytest.param(HYDRANT, every(HOUR, [0.3] * 6), [], id="five-hours-is-fine"),
        pytest.param(HYDRANT, every(HOUR, [0.3, 0.31] * 4), [], id="real-pressure-wobbles"),
        pytest.param(
            HYDRANT,
            every(HOUR, [0.3] * 8 + [0.301, 0.301]),
            [(RAISED, 6 * HOUR), (CLEARED, 8 * HOUR)],
            id="cleared-on-first-different-value",
        ),
        pytest.param(
            HYDRANT,
            [(0, 0.3), (1, 0.32), (2, 0.3), *((2 + i * HOUR, 0.3) for i in range(1, 7))],
            [(RAISED, 2 + 6 * HOUR)],
            id="counts-from-the-last-change",
        ),
        pytest.param(
            sensor("hydrant", detection={"stuck_after_s": 600}),
            every(300, [0.3] * 3),
            [(RAISED, 600)],
            id="configured-time",
        ),
        pytest.param(
            sensor("water_level", detection={"stuck_after_s": 1800}),
            every(600, [12.0] * 4),
            [(RAISED, 1800)],
            id="water-level-when-configured",
        ),
    ],
)
def test_stuck(
    config: SensorConfig, samples: list[tuple[int, float]], expected: list[tuple[EventState, int]]
) -> None:
    (det,) = stuck(config, {})
    metric = config.sensor_kind.primary
    found = []
    for t_s, value in samples:
        r = Reading(sensor="s1", kind=config.kind, t=T0 + t_s * 1000, values={metric: value})
        found += det.observe(r)
    assert all(
        (f.type, f.level, f.key, f.metric)
        == (AnomalyType.STUCK, Level.BLUE, f"stuck:{metric}", metric)
        for f in found
    )
    assert [(f.state, (f.t - T0) // 1000) for f in found] == expected


def test_silence_is_not_stuck() -> None:
    (det,) = stuck(HYDRANT, {})
    det.observe(Reading(sensor="s1", kind="hydrant", t=T0, values={"pressure": 0.3}))
    assert det.tick(T0 + 24 * HOUR * 1000) == []


@pytest.mark.parametrize("kind", ["water_level", "gas", "smoke", "manhole_cover", "power"])
def test_off_by_default_except_hydrants(kind: str) -> None:
    assert stuck(sensor(kind), {}) == []
