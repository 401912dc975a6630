from __future__ import annotations

from typing import Any

import pytest

from edge.config import SensorConfig
from edge.detectors.base import Finding
from edge.detectors.monitor import SensorMonitor
from edge.validate import FaultReason, SensorFault
from streetwatch.anomalies import AnomalyType
from streetwatch.levels import Level
from streetwatch.messages import EventState, Reading

T0 = 1_700_000_000_000
RAISED, CLEARED = EventState.RAISED, EventState.CLEARED


def sensor(kind: str, **extra: Any) -> SensorConfig:
    return SensorConfig.model_validate(
        {"id": "s1", "kind": kind, "source": {"ecosystem": "json", "device": "d1"}, **extra}
    )


Step = tuple[str, int]


def play(monitor: SensorMonitor, steps: list[Step]) -> list[tuple[EventState, int]]:
    """Steps: (what, t_s), what being sample, fault, tick, online or offline (availability)."""
    found: list[Finding] = []
    for what, t_s in steps:
        t = T0 + t_s * 1000
        if what == "sample":
            r = Reading(sensor="s1", kind=monitor.sensor.kind, t=t, values={"battery": 80.0})
            found += monitor.observe(r).findings
        elif what == "fault":
            found += monitor.fault(SensorFault("s1", FaultReason.NAN, "nan", t, "depth"), t)
        elif what == "tick":
            found += monitor.tick(t).findings
        else:
            found += monitor.availability(what == "online", t)
    offline = [f for f in found if f.type is AnomalyType.OFFLINE]
    assert all(f.level is Level.BLUE and f.key == "offline" for f in offline)
    return [(f.state, (f.t - T0) // 1000) for f in offline]


# Water level: reports every 60 s, offline after 300 s.
@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param(
            [("sample", 0), ("tick", 300), ("tick", 301), ("tick", 400), ("sample", 500)],
            [(RAISED, 301), (CLEARED, 500)],
            id="silence-then-back",
        ),
        pytest.param(
            [("sample", 0), ("sample", 250), ("tick", 301), ("tick", 550)],
            [],
            id="reporting-keeps-it-online",
        ),
        pytest.param(
            [("tick", 0), ("tick", 300), ("tick", 301)],
            [(RAISED, 301)],
            id="never-heard-counts-from-first-tick",
        ),
        pytest.param(
            [("sample", 0), ("fault", 250), ("tick", 450)],
            [],
            id="faulty-samples-are-signs-of-life",
        ),
        pytest.param(
            [("sample", 0), ("offline", 10), ("tick", 20), ("online", 30)],
            [(RAISED, 10), (CLEARED, 30)],
            id="availability-offline-then-online",
        ),
        pytest.param(
            [("offline", 10), ("offline", 20), ("sample", 30)],
            [(RAISED, 10), (CLEARED, 30)],
            id="availability-offline-then-sample",
        ),
        pytest.param(
            [("online", 10), ("tick", 300), ("tick", 311)],
            [(RAISED, 311)],
            id="availability-online-restarts-the-timer",
        ),
        pytest.param(
            [("sample", 0), ("tick", 301), ("offline", 310), ("online", 320)],
            [(RAISED, 301), (CLEARED, 320)],
            id="one-anomaly-for-both-causes",
        ),
    ],
)
def test_offline(steps: list[Step], expected: list[tuple[EventState, int]]) -> None:
    assert play(SensorMonitor(sensor("water_level")), steps) == expected


def test_configured_offline_time() -> None:
    monitor = SensorMonitor(sensor("water_level", offline_after_s=120))
    assert play(monitor, [("sample", 0), ("tick", 120), ("tick", 121)]) == [(RAISED, 121)]


def test_receive_time_drives_the_timer() -> None:
    # A device whose clock is 4 minutes behind (plausible, so its time is kept) is not offline.
    monitor = SensorMonitor(sensor("water_level"))
    r = Reading(sensor="s1", kind="water_level", t=T0, values={"depth": 3.0})
    monitor.observe(r, received_ms=T0 + 240_000)
    assert monitor.tick(T0 + 400_000).findings == ()
    assert monitor.last_seen_ms == T0 + 240_000
