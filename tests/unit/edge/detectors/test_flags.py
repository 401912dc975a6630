from __future__ import annotations

import pytest

from edge.config import SensorConfig
from edge.detectors.base import Finding
from edge.detectors.flags import flags
from streetwatch.anomalies import AnomalyType
from streetwatch.levels import Level
from streetwatch.messages import EventState, Reading

T0 = 1_700_000_000_000
ALARM, TEST = AnomalyType.ALARM_FLAG, AnomalyType.SELF_TEST
RAISED, CLEARED = EventState.RAISED, EventState.CLEARED
NONE, BLUE, YELLOW, ORANGE, RED = Level


def sensor(kind: str) -> SensorConfig:
    return SensorConfig.model_validate(
        {"id": "s1", "kind": kind, "source": {"ecosystem": "json", "device": "d1"}}
    )


# A step is (t in s, values) for a reading, or (t in s, None) for a tick.
Step = tuple[float, dict[str, bool] | None]
Seen = tuple[str, AnomalyType, Level, EventState, float]


def play(kind: str, steps: list[Step]) -> list[Seen]:
    config = sensor(kind)
    detectors = flags(config, {})
    found: list[Finding] = []
    for t_s, values in steps:
        t = T0 + int(t_s * 1000)
        for d in detectors:
            if values is None:
                found += d.tick(t)
            else:
                found += d.observe(Reading(sensor="s1", kind=config.kind, t=t, values=values))
    return [
        (f.key.removeprefix("flag:"), f.type, f.level, f.state, (f.t - T0) / 1000) for f in found
    ]


@pytest.mark.parametrize(
    ("kind", "steps", "expected"),
    [
        pytest.param(
            "smoke",
            [(0, {"smoke": False}), (10, {"smoke": True}), (40, {"smoke": False})],
            [("smoke", ALARM, ORANGE, RAISED, 10), ("smoke", ALARM, ORANGE, CLEARED, 40)],
            id="smoke-alarm",
        ),
        pytest.param(
            "smoke",
            [(0, {"smoke": True}), (5, {"smoke": True}), (9, {"battery_low": True})],
            [
                ("smoke", ALARM, ORANGE, RAISED, 0),
                ("battery_low", AnomalyType.BATTERY_LOW, BLUE, RAISED, 9),
            ],
            id="once-per-transition-and-missing-flags-change-nothing",
        ),
        pytest.param(
            # Zigbee2MQTT Heiman: test button held → test: true and smoke: true together.
            "smoke",
            [(0, {"smoke": True, "self_test": True}), (4, {"smoke": False, "self_test": False})],
            [
                ("smoke", TEST, NONE, RAISED, 0),
                ("self_test", TEST, NONE, RAISED, 0),
                ("smoke", TEST, NONE, CLEARED, 4),
                ("self_test", TEST, NONE, CLEARED, 4),
            ],
            id="self-test-same-reading",
        ),
        pytest.param(
            "smoke",
            [
                (0, {"self_test": True, "smoke": False}),
                (3, {"self_test": False, "smoke": False}),
                (8, {"smoke": True}),
                (12, {"smoke": False}),
            ],
            [
                ("self_test", TEST, NONE, RAISED, 0),
                ("self_test", TEST, NONE, CLEARED, 3),
                ("smoke", TEST, NONE, RAISED, 8),
                ("smoke", TEST, NONE, CLEARED, 12),
            ],
            id="alarm-within-the-grace-after-a-test",
        ),
        pytest.param(
            "smoke",
            [
                (0, {"self_test": True, "smoke": False}),
                (3, {"self_test": False, "smoke": False}),
                (20, {"smoke": True}),
            ],
            [
                ("self_test", TEST, NONE, RAISED, 0),
                ("self_test", TEST, NONE, CLEARED, 3),
                ("smoke", ALARM, ORANGE, RAISED, 20),
            ],
            id="a-fire-20-s-after-a-test-press-is-real-at-once",
        ),
        pytest.param(
            "smoke",
            [(0, {"self_test": True}), (1, {"self_test": False}), (61.5, {"smoke": True})],
            [
                ("self_test", TEST, NONE, RAISED, 0),
                ("self_test", TEST, NONE, CLEARED, 1),
                ("smoke", ALARM, ORANGE, RAISED, 61.5),
            ],
            id="alarm-long-after-a-test-is-real",
        ),
        pytest.param(
            "smoke",
            [
                (0, {"smoke": True, "self_test": True}),
                (1, {"self_test": False}),
                (11, None),
                (11.5, None),
            ],
            [
                ("smoke", TEST, NONE, RAISED, 0),
                ("self_test", TEST, NONE, RAISED, 0),
                ("self_test", TEST, NONE, CLEARED, 1),
                ("smoke", ALARM, ORANGE, RAISED, 11.5),
            ],
            id="alarm-outlasting-the-grace-becomes-real",
        ),
        pytest.param(
            # A device that says test: true on a press and then leaves the field out.
            "smoke",
            [
                (0, {"self_test": True, "smoke": False}),
                (2, {"smoke": False}),
                (30, {"smoke": True}),
            ],
            [("self_test", TEST, NONE, RAISED, 0), ("smoke", ALARM, ORANGE, RAISED, 30)],
            id="a-fire-after-a-press-and-a-left-out-test-field-is-real",
        ),
        pytest.param(
            "smoke",
            [
                (0, {"self_test": True, "smoke": False}),
                (8, {"smoke": True}),
                (9, {"smoke": True}),
                (10, None),
                (10.5, None),
            ],
            [
                ("self_test", TEST, NONE, RAISED, 0),
                ("smoke", TEST, NONE, RAISED, 8),
                ("smoke", ALARM, ORANGE, RAISED, 10.5),
            ],
            id="readings-without-the-test-field-renew-nothing",
        ),
        pytest.param(
            # The button held 30 s, the device repeating test: true while it is.
            "smoke",
            [
                *[(t, {"smoke": True, "self_test": True}) for t in (0, 8, 16, 24)],
                (30, None),
                (31, {"smoke": False, "self_test": False}),
            ],
            [
                ("smoke", TEST, NONE, RAISED, 0),
                ("self_test", TEST, NONE, RAISED, 0),
                ("smoke", TEST, NONE, CLEARED, 31),
                ("self_test", TEST, NONE, CLEARED, 31),
            ],
            id="a-held-press-repeating-test-stays-a-self-test",
        ),
        pytest.param(
            # Held 15 s by a device that says test: true once: a self-test for 10 s only.
            "smoke",
            [
                (0, {"smoke": True, "self_test": True}),
                (10, None),
                (10.5, None),
                (15, {"smoke": False, "self_test": False}),
            ],
            [
                ("smoke", TEST, NONE, RAISED, 0),
                ("self_test", TEST, NONE, RAISED, 0),
                ("smoke", ALARM, ORANGE, RAISED, 10.5),
                ("smoke", ALARM, ORANGE, CLEARED, 15),
                ("self_test", TEST, NONE, CLEARED, 15),
            ],
            id="a-press-said-once-masks-10-s-at-most",
        ),
        pytest.param(
            # Ticks every second on the gateway's clock; the device's clock is 30 s behind.
            "smoke",
            [
                (0, None),
                (-30, {"smoke": True, "self_test": True}),
                *[(t, None) for t in range(1, 5)],
                (-26, {"smoke": False, "self_test": False}),
                (5, None),
            ],
            [
                ("smoke", TEST, NONE, RAISED, -30),
                ("self_test", TEST, NONE, RAISED, -30),
                ("smoke", TEST, NONE, CLEARED, -26),
                ("self_test", TEST, NONE, CLEARED, -26),
            ],
            id="a-device-clock-behind-does-not-turn-a-press-into-an-alarm",
        ),
        pytest.param(
            # The device's clock is 60 s ahead; it says test: true once and then nothing.
            "smoke",
            [
                (0, None),
                (60, {"smoke": True, "self_test": True}),
                *[(t, None) for t in range(1, 13)],
            ],
            [
                ("smoke", TEST, NONE, RAISED, 60),
                ("self_test", TEST, NONE, RAISED, 60),
                ("smoke", ALARM, ORANGE, RAISED, 11),
            ],
            id="a-device-clock-ahead-does-not-mask-an-alarm-longer",
        ),
        pytest.param(
            "smoke",
            [
                (0, {"smoke": True}),
                (10, {"smoke": True, "self_test": True}),
                (15, {"smoke": False}),
            ],
            [
                ("smoke", ALARM, ORANGE, RAISED, 0),
                ("self_test", TEST, NONE, RAISED, 10),
                ("smoke", ALARM, ORANGE, CLEARED, 15),
            ],
            id="a-real-alarm-is-never-turned-into-a-test",
        ),
        pytest.param(
            "gas",
            [(0, {"gas": True, "self_test": True}), (2, {"gas": False, "self_test": False})],
            [
                ("gas", TEST, NONE, RAISED, 0),
                ("self_test", TEST, NONE, RAISED, 0),
                ("gas", TEST, NONE, CLEARED, 2),
                ("self_test", TEST, NONE, CLEARED, 2),
            ],
            id="gas-self-test",
        ),
        pytest.param(
            "water_level",
            [(0, {"water_leak": True}), (100, {"water_leak": False})],
            [("water_leak", ALARM, YELLOW, RAISED, 0), ("water_leak", ALARM, YELLOW, CLEARED, 100)],
            id="water-leak",
        ),
        pytest.param(
            "hydrant",
            [
                (0, {"flow": True}),
                (5, None),
                (9.9, None),
                (10, None),
                (11, None),
                (30, {"flow": False}),
            ],
            [("flow", ALARM, YELLOW, RAISED, 10), ("flow", ALARM, YELLOW, CLEARED, 30)],
            id="flow-after-10-s-by-tick",
        ),
        pytest.param(
            "hydrant",
            [(0, {"flow": True}), (12, {"flow": True})],
            [("flow", ALARM, YELLOW, RAISED, 12)],
            id="flow-after-10-s-by-sample",
        ),
        pytest.param(
            "hydrant",
            [
                (0, {"flow": True}),
                (5, {"flow": False}),
                (20, None),
                (21, {"flow": True}),
                (30, None),
            ],
            [],
            id="short-flow-is-nothing",
        ),
        pytest.param(
            "hydrant",
            [(0, {"cover_open": True, "tamper": True}), (50, {"cover_open": False})],
            [
                ("cover_open", ALARM, BLUE, RAISED, 0),
                ("tamper", AnomalyType.TAMPER, BLUE, RAISED, 0),
                ("cover_open", ALARM, BLUE, CLEARED, 50),
            ],
            id="cover-open-and-tamper",
        ),
        pytest.param(
            "manhole_cover",
            [(0, {"open": True})],
            [("open", ALARM, ORANGE, RAISED, 0)],
            id="manhole-open",
        ),
        pytest.param(
            "power",
            [(0, {"on_battery": True}), (29, None), (30, None)],
            [("on_battery", ALARM, BLUE, RAISED, 30)],
            id="on-battery-after-30-s",
        ),
    ],
)
def test_flags(kind: str, steps: list[Step], expected: list[Seen]) -> None:
    assert play(kind, steps) == expected


def test_findings_carry_the_flag() -> None:
    (f,) = next(x for x in flags(sensor("smoke"), {}) if x.key == "flag:smoke").observe(
        Reading(sensor="s1", kind="smoke", t=T0, values={"smoke": True})
    )
    assert (f.metric, f.value) == ("smoke", True)
    assert (f.type, f.level) == (ALARM, ORANGE)
    assert "smoke" in f.detail
