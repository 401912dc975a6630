from __future__ import annotations

from typing import Any

import pytest

from edge.config import SensorConfig
from edge.detectors.monitor import SensorMonitor
from edge.detectors.spike import Spike, SpikeFilter, spike_jumps
from streetwatch.anomalies import AnomalyType
from streetwatch.levels import Level
from streetwatch.messages import EventState, Quality, Reading

T0 = 1_700_000_000_000
THR, FLAG = AnomalyType.THRESHOLD, AnomalyType.ALARM_FLAG
RAISED = EventState.RAISED
NONE, BLUE, YELLOW, ORANGE, RED = Level


def sensor(kind: str, **extra: Any) -> SensorConfig:
    return SensorConfig.model_validate(
        {"id": "s1", "kind": kind, "source": {"ecosystem": "json", "device": "d1"}, **extra}
    )


def reading(t_s: float, **values: float | bool) -> Reading:
    return Reading(sensor="s1", kind="water_level", t=T0 + int(t_s * 1000), values=values)


def test_jumps_default_to_half_the_range_and_config_sets_the_primary() -> None:
    assert spike_jumps(sensor("water_level")) == {"depth": 250.0}
    assert spike_jumps(sensor("hydrant")) == {"pressure": 1.25, "tilt": 45.0}
    assert spike_jumps(sensor("hydrant", detection={"spike_jump": 0.5})) == {
        "pressure": 0.5,
        "tilt": 45.0,
    }
    assert spike_jumps(sensor("power")) == {"mains_voltage": 200.0}


# Water depth, a sample a minute; raise_samples=1 so that any sample fed to the threshold
# detector beyond red raises at once, and a delay shows. Expected: (level, state, when the
# finding came out, its time t at the sensor), in seconds.
@pytest.mark.parametrize(
    ("detection", "depths", "expected", "spikes"),
    [
        pytest.param({}, [10, 10, 300, 10, 10], [], 1, id="one-sample-spike"),
        pytest.param({}, [10, 300, 10, 300, 10], [], 2, id="two-separate-spikes"),
        pytest.param({}, [10, 10, 300, 12], [], 1, id="comes-back-near"),
        pytest.param({}, [10, 300, 300, 300], [(RED, RAISED, 120, 60)], 0, id="sustained-jump"),
        pytest.param(
            {}, [10, 300, 300, 10], [(RED, RAISED, 120, 60)], 0, id="two-sample-excursion"
        ),
        pytest.param({}, [10, 200, 10], [(RED, RAISED, 60, 60)], 0, id="jump-under-spike-size"),
        pytest.param({}, [300, 10, 10], [(RED, RAISED, 0, 0)], 0, id="first-sample-is-trusted"),
        pytest.param({"spike_jump": 20}, [10, 40, 10, 10], [], 1, id="configured-jump"),
        pytest.param(
            {"spike_jump": 20},
            [10, 40, 45, 50],
            [(ORANGE, RAISED, 120, 60), (RED, RAISED, 180, 180)],
            0,
            id="configured-jump-sustained",
        ),
        pytest.param(
            {"spike_jump": 20},
            [10, 40, 80, 10],
            [(ORANGE, RAISED, 120, 60), (RED, RAISED, 180, 120)],
            0,
            id="jump-after-jump",
        ),
    ],
)
def test_spikes(
    detection: dict[str, Any],
    depths: list[float],
    expected: list[tuple[Level, EventState, int, int]],
    spikes: int,
) -> None:
    monitor = SensorMonitor(sensor("water_level", detection={"raise_samples": 1, **detection}))
    found: list[tuple[Level, EventState, int, int]] = []
    rejected: list[Spike] = []
    for i, depth in enumerate(depths):
        result = monitor.observe(reading(i * 60, depth=depth))
        found += [(f.level, f.state, i * 60, (f.t - T0) // 1000) for f in result.findings]
        rejected += result.spikes_rejected
    assert found == expected
    assert len(rejected) == spikes


def test_a_rejected_spike_is_forwarded_once_marked_suspect() -> None:
    monitor = SensorMonitor(sensor("water_level"))
    forwarded: list[Reading] = []
    for i, depth in enumerate([10, 300, 10]):
        forwarded += monitor.observe(reading(i * 60, depth=depth, battery=90)).forwarded
    assert [(r.t - T0, r.values, r.quality) for r in forwarded] == [
        (0, {"depth": 10.0, "battery": 90.0}, Quality.GOOD),
        (60_000, {"battery": 90.0}, Quality.GOOD),  # the candidate is held back alone
        (60_000, {"depth": 300.0}, Quality.SUSPECT),
        (120_000, {"depth": 10.0, "battery": 90.0}, Quality.GOOD),
    ]


def test_a_held_candidate_does_not_delay_the_flags_of_its_reading() -> None:
    monitor = SensorMonitor(sensor("water_level"))
    monitor.observe(reading(0, depth=10.0, water_leak=False))
    result = monitor.observe(reading(60, depth=300.0, water_leak=True))
    assert [(f.type, f.level) for f in result.findings] == [(FLAG, YELLOW)]


def test_a_candidate_with_no_next_sample_is_released_by_tick() -> None:
    # A device that reports only on change jumps once and says nothing more.
    monitor = SensorMonitor(sensor("water_level", detection={"raise_samples": 1}))
    monitor.observe(reading(0, depth=10.0))
    assert monitor.observe(reading(60, depth=300.0)).findings == ()
    assert monitor.tick(T0 + 60_000 + 89_999).findings == ()  # hold: 1.5 report intervals
    result = monitor.tick(T0 + 60_000 + 90_000)
    (f,) = result.findings
    assert (f.type, f.level, f.t) == (THR, RED, T0 + 60_000)
    assert [(r.values, r.quality) for r in result.forwarded] == [({"depth": 300.0}, Quality.GOOD)]
    assert monitor.last_values["depth"] == 300.0


def test_filter_holds_each_metric_alone() -> None:
    spikes = SpikeFilter({"pressure": 1.0, "tilt": 45.0}, hold_s=60)
    first = Reading(sensor="s1", kind="hydrant", t=T0, values={"pressure": 0.3, "tilt": 1.0})
    jump = first.model_copy(update={"t": T0 + 1, "values": {"pressure": 2.4, "tilt": 2.0}})
    back = first.model_copy(update={"t": T0 + 2, "values": {"pressure": 0.31, "tilt": 60.0}})
    spikes.filter(first)
    held = spikes.filter(jump)
    assert [r.values for r in held.detect] == [{"tilt": 2.0}]
    assert spikes.holding == {"pressure": 2.4}
    result = spikes.filter(back)
    assert [s.metric for s in result.spikes] == ["pressure"]
    assert [r.values for r in result.detect] == [{"pressure": 0.31}]
    assert spikes.holding == {"tilt": 60.0}
