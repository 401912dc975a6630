"""Nearest hydrants with pressure, from the telemetry the hub has seen."""

from __future__ import annotations

import pytest

from hub.incidents.resources import HydrantWatch, distance_m
from streetwatch.location import Coordinates, Placement
from streetwatch.messages import MetricStats, Reading, TelemetryBatch, WindowSummary

CENTER = Coordinates(lat=31.2232, lon=121.5620)


def test_distance_of_a_known_pair() -> None:
    # 0.01 degree of latitude is about 1,112 m anywhere.
    assert distance_m(CENTER, Coordinates(lat=31.2332, lon=121.5620)) == pytest.approx(1112, abs=2)


def batch(readings: list[Reading], summaries: list[WindowSummary] = ()) -> TelemetryBatch:  # type: ignore[assignment]
    return TelemetryBatch(
        gateway="gw",
        boot="abcdef01",
        seq=0,
        sent=0,
        readings=tuple(readings),
        summaries=tuple(summaries),
    )


PRESSURES = MetricStats(min=0.2, max=0.3, mean=0.25, last=0.28, count=3)


def test_nearest_with_pressure_first_then_the_rest() -> None:
    places = {
        "h-near-dry": Placement(coordinates=Coordinates(lat=31.2233, lon=121.5620)),
        "h-mid": Placement(coordinates=Coordinates(lat=31.2250, lon=121.5620)),
        "h-far": Placement(coordinates=Coordinates(lat=31.2400, lon=121.5620)),
        "h-nowhere": Placement(),
    }
    now = 10_000_000
    watch = HydrantWatch()
    watch.observe(
        batch(
            [
                Reading(sensor="h-near-dry", kind="hydrant", t=now, values={"pressure": 0.05}),
                Reading(sensor="h-far", kind="hydrant", t=now, values={"pressure": 0.3}),
                Reading(sensor="h-nowhere", kind="hydrant", t=now, values={"pressure": 0.3}),
            ],
            [
                WindowSummary(
                    sensor="h-mid",
                    kind="hydrant",
                    start=now - 60_000,
                    end=now,
                    stats={
                        "pressure": MetricStats(min=0.2, max=0.3, mean=0.25, last=0.28, count=3)
                    },
                )
            ],
        ),
        places,
    )
    found = watch.nearest(CENTER, now)
    assert [(n.hydrant.sensor, n.ok) for n in found] == [
        ("h-mid", True),
        ("h-far", True),
        ("h-near-dry", False),
    ]
    assert found[0].hydrant.pressure_mpa == 0.28


def test_a_stale_reading_does_not_count_as_pressure_now() -> None:
    places = {"h": Placement(coordinates=CENTER)}
    watch = HydrantWatch()
    watch.observe(
        batch([Reading(sensor="h", kind="hydrant", t=0, values={"pressure": 0.3})]), places
    )
    (only,) = watch.nearest(CENTER, 2 * 3_600_000)
    assert not only.ok
