from __future__ import annotations

import pytest

from edge.config import ReportingConfig
from edge.reporting import Reporter
from streetwatch.messages import MetricStats, Quality, Reading

T0 = 1_700_000_000_000 - 1_700_000_000_000 % 60_000  # on a minute boundary
CONFIG = ReportingConfig(window_s=60, deadband=0.05)  # water depth: 5 % of 0..500 cm = 25 cm


def sample(t_s: float, values: dict[str, float | bool]) -> Reading:
    return Reading(sensor="w1", kind="water_level", t=T0 + int(t_s * 1000), values=values)


def water(
    t_s: float, quality: Quality = Quality.GOOD, sensor: str = "w1", **values: float | bool
) -> Reading:
    return Reading(
        sensor=sensor, kind="water_level", t=T0 + int(t_s * 1000), values=values, quality=quality
    )


@pytest.mark.parametrize(
    ("samples", "sent"),
    [
        pytest.param([{"depth": 10.0}], [0], id="first-sample"),
        pytest.param([{"depth": 10.0}, {"depth": 10.0}, {"depth": 12.0}], [0], id="unchanged"),
        pytest.param([{"depth": 10.0}, {"depth": 35.1}], [0, 1], id="beyond-deadband"),
        pytest.param([{"depth": 10.0}, {"depth": 35.0}], [0], id="exactly-deadband"),
        pytest.param(
            [{"depth": 10.0}, {"depth": 30.0}, {"depth": 36.0}, {"depth": 50.0}],
            [0, 2],
            id="drift-measured-from-last-sent",
        ),
        pytest.param([{"depth": 40.0}, {"depth": 14.0}], [0, 1], id="falling-counts-too"),
        pytest.param(
            [
                {"depth": 1.0, "water_leak": False},
                {"depth": 1.0, "water_leak": True},
                {"depth": 1.0, "water_leak": True},
                {"depth": 1.0, "water_leak": False},
            ],
            [0, 1, 3],
            id="flag-changes",
        ),
        pytest.param(
            [
                {"depth": 1.0, "linkquality": 200.0},
                {"depth": 1.0, "linkquality": 20.0},
                {"depth": 1.0, "rssi": -110.0},
            ],
            [0],
            id="radio-diagnostics-never-trigger",
        ),
        pytest.param(
            [{"depth": 1.0}, {"depth": 1.0, "battery": 80.0}, {"depth": 1.0, "battery": 79.0}],
            [0, 1],
            id="a-metric-never-sent",
        ),
    ],
)
def test_report_by_exception(samples: list[dict[str, float | bool]], sent: list[int]) -> None:
    reporter = Reporter(CONFIG)
    out = [i for i, values in enumerate(samples) if reporter.add(sample(i * 10, values), False)]
    assert out == sent


def test_streaming_sends_every_sample_and_moves_the_reference() -> None:
    reporter = Reporter(CONFIG)
    assert reporter.add(water(0, depth=10.0), False)
    assert reporter.add(water(1, depth=10.0), True)
    assert reporter.add(water(2, depth=40.0), True)
    assert not reporter.add(water(3, depth=41.0), False)  # 41 vs 40 last sent, not vs 10


def test_suspect_samples_go_out_at_once_and_stay_out_of_summaries() -> None:
    reporter = Reporter(CONFIG)
    reporter.add(water(0, depth=10.0), False)
    spike = water(10, Quality.SUSPECT, depth=300.0)
    assert reporter.add(spike, False) == [spike]
    assert not reporter.add(water(20, depth=11.0), False)  # the reference is still 10
    (summary,) = reporter.flush(T0 + 60_000)
    assert summary.stats["depth"] == MetricStats(min=10.0, max=11.0, mean=10.5, last=11.0, count=2)


def test_window_summary() -> None:
    reporter = Reporter(CONFIG)
    for i, (depth, leak) in enumerate([(4.0, False), (8.0, True), (6.0, False)]):
        reporter.add(water(5 + i * 20, depth=depth, water_leak=leak, battery=90.0 - i), False)
    assert reporter.flush(T0 + 59_999) == []
    (summary,) = reporter.flush(T0 + 60_000)
    assert (summary.sensor, summary.kind, summary.start, summary.end) == (
        "w1",
        "water_level",
        T0,
        T0 + 60_000,
    )
    assert summary.stats["depth"] == MetricStats(min=4.0, max=8.0, mean=6.0, last=6.0, count=3)
    assert summary.stats["battery"].last == 88.0
    assert summary.flags == {"water_leak": False}
    assert reporter.flush(T0 + 120_000) == []  # an empty window produces nothing


def test_streamed_samples_are_summarised_too() -> None:
    reporter = Reporter(CONFIG)
    for t in (0, 10, 20):
        reporter.add(water(t, depth=30.0 + t), True)
    (summary,) = reporter.flush(T0 + 60_000)
    assert summary.stats["depth"].count == 3


def test_windows_per_sensor_and_in_order() -> None:
    reporter = Reporter(CONFIG)
    reporter.add(water(10, sensor="a", depth=1.0), False)
    reporter.add(water(70, sensor="a", depth=2.0), False)
    reporter.add(water(130, sensor="a", depth=3.0), False)
    reporter.add(water(20, sensor="b", depth=9.0), False)
    summaries = reporter.flush(T0 + 125_000)
    assert [(s.sensor, s.start - T0, s.stats["depth"].last) for s in summaries] == [
        ("a", 0, 1.0),
        ("a", 60_000, 2.0),
        ("b", 0, 9.0),
    ]
    assert [(s.sensor, s.start - T0) for s in reporter.flush(T0 + 180_000)] == [("a", 120_000)]


@pytest.mark.parametrize(
    ("flushes", "windows"),
    [
        pytest.param(
            [(240, 1)], [(0, 60, 1), (60, 120, 1), (120, 180, 1), (180, 240, 1)], id="normal"
        ),
        pytest.param([(120, 4), (239.999, 4)], [], id="coarsened-not-due"),
        pytest.param([(240, 4)], [(0, 240, 4)], id="coarsened-one-summary"),
        pytest.param(
            [(120, 4), (240, 1)],
            [(0, 60, 1), (60, 120, 1), (120, 180, 1), (180, 240, 1)],
            id="pressure-gone-back-to-normal",
        ),
        pytest.param([(150, 2), (300, 2)], [(0, 120, 2), (120, 240, 2)], id="coarsen-2"),
    ],
)
def test_coarsen(flushes: list[tuple[float, int]], windows: list[tuple[int, int, int]]) -> None:
    reporter = Reporter(CONFIG)
    for t in range(0, 240, 20):  # three samples a minute for four minutes
        reporter.add(water(t, depth=float(t)), False)
    summaries = []
    for now_s, coarsen in flushes:
        summaries += reporter.flush(T0 + int(now_s * 1000), coarsen=coarsen)
    got = [
        ((s.start - T0) // 1000, (s.end - T0) // 1000, s.stats["depth"].count // 3)
        for s in summaries
    ]
    assert got == windows


def test_a_late_sample_goes_into_the_next_window() -> None:
    reporter = Reporter(CONFIG)
    reporter.add(water(30, depth=1.0), False)
    assert len(reporter.flush(T0 + 60_000)) == 1
    reporter.add(water(59, depth=2.0), False)  # arrives after its window was sent
    (summary,) = reporter.flush(T0 + 120_000)
    assert (summary.start, summary.stats["depth"].last) == (T0 + 60_000, 2.0)


def test_mean_stays_within_min_and_max() -> None:
    reporter = Reporter(CONFIG)
    for t in (0, 10, 20):
        reporter.add(water(t, depth=0.1), False)
    (summary,) = reporter.flush(T0 + 60_000)
    assert summary.stats["depth"].mean == 0.1


def test_coarsen_must_be_positive() -> None:
    with pytest.raises(ValueError, match="coarsen"):
        Reporter(CONFIG).flush(T0, coarsen=0)
