"""Each value fault does what it says, logs it, and stays within the window and sensor it names."""

from __future__ import annotations

import pytest
from unit.simulators.devices.readback import NAMES, read_back

from simulators.devices import (
    Action,
    ClockSkew,
    DeviceSpec,
    Drift,
    FaultRecord,
    LowBattery,
    Sample,
    SampleFault,
    SelfTest,
    Spikes,
    Stuck,
    Tamper,
    carried,
    inject,
    payloads,
)
from streetwatch.anomalies import AnomalyType
from streetwatch.kinds import KINDS, Ecosystem, KindName

HOUR = 3_600_000
MIN = 60_000


def water(n: int = 10, sensor: str = "w1", start: float = 10.0) -> list[Sample]:
    """A rising water level, one sample a minute."""
    return [
        Sample(sensor, KindName.WATER_LEVEL, i * MIN, {"depth": start + i}, battery=80)
        for i in range(n)
    ]


def depths(samples: list[Sample]) -> list[float]:
    return [float(s.values["depth"]) for s in samples]


def test_drift_grows_linearly_from_its_start() -> None:
    log: list[FaultRecord] = []
    out = list(Drift("depth", per_hour=60.0, start_ms=2 * MIN).apply(water(), log))
    assert depths(out)[:2] == [10.0, 11.0]
    assert depths(out)[2:] == pytest.approx([12.0 + 2 * i for i in range(8)])
    assert [r.action for r in log] == [Action.DRIFTED] * 8
    assert log[-1].value == pytest.approx(26.0)


def test_drift_stays_in_the_physical_range() -> None:
    out = list(Drift("depth", per_hour=-10_000.0).apply(water(), []))
    assert min(depths(out)) == KINDS[KindName.WATER_LEVEL].metric("depth").low


def test_stuck_repeats_the_first_value_in_its_window_per_sensor() -> None:
    stream = [s for pair in zip(water(), water(sensor="w2", start=50.0), strict=True) for s in pair]
    log: list[FaultRecord] = []
    out = list(Stuck("depth", start_ms=3 * MIN, end_ms=7 * MIN).apply(stream, log))
    w1 = depths([s for s in out if s.sensor == "w1"])
    w2 = depths([s for s in out if s.sensor == "w2"])
    assert w1 == [10, 11, 12, 13, 13, 13, 13, 17, 18, 19]
    assert w2 == [50, 51, 52, 53, 53, 53, 53, 57, 58, 59]
    assert len(log) == 8
    assert {r.value for r in log} == {13, 53}


def test_stuck_on_device_state() -> None:
    stream = [
        Sample("w", KindName.WATER_LEVEL, i, {"depth": 1.0}, battery=90 - i) for i in range(4)
    ]
    out = list(Stuck("battery", start_ms=1).apply(stream, []))
    assert [s.battery for s in out] == [90, 89, 89, 89]


def test_spikes_jump_by_their_magnitude_and_stay_in_range() -> None:
    log: list[FaultRecord] = []
    stream = water(50, start=0.0)
    out = list(Spikes("depth", magnitude=40.0, probability=0.3, seed=7).apply(stream, log))
    moved = [(a, b) for a, b in zip(depths(stream), depths(out), strict=True) if a != b]
    assert 0 < len(moved) < 50
    assert all(abs(b - a) == 40.0 and b >= 0 for a, b in moved)
    assert len(log) == len(moved)
    assert all(r.action is Action.SPIKED for r in log)
    again = list(Spikes("depth", magnitude=40.0, probability=0.3, seed=7).apply(stream, []))
    assert again == out
    other = list(Spikes("depth", magnitude=40.0, probability=0.3, seed=8).apply(stream, []))
    assert other != out


def test_low_battery_reaches_the_edge() -> None:
    log: list[FaultRecord] = []
    (low,) = LowBattery(level=4.0).apply(water(1), log)
    assert (low.battery, low.values["battery_low"]) == (4.0, True)
    assert log == [FaultRecord("LowBattery", Action.LOW_BATTERY, "w1", 0, "battery", 4.0)]
    device = DeviceSpec(Ecosystem.ZIGBEE2MQTT, NAMES[Ecosystem.ZIGBEE2MQTT], KindName.WATER_LEVEL)
    back = read_back(payloads(low, device), device)
    assert (back.values["battery"], back.values["battery_low"]) == (4.0, True)


def test_tamper_sets_the_flag_where_the_kind_has_one() -> None:
    log: list[FaultRecord] = []
    (opened,) = Tamper().apply(water(1), log)
    assert opened.values["tamper"] is True
    power = Sample("p", KindName.POWER, 0, {"mains_voltage": 220.0})
    assert list(Tamper().apply([power], log)) == [power]
    assert [r.metric for r in log] == ["tamper"]


def test_self_test_presses_the_button_briefly() -> None:
    stream = [Sample("s", KindName.SMOKE, i * 1000, {"smoke": False}) for i in range(6)]
    log: list[FaultRecord] = []
    out = list(SelfTest(start_ms=2000, end_ms=4000).apply(stream, log))
    assert [s.values.get("self_test", False) for s in out] == [
        False,
        False,
        True,
        True,
        False,
        False,
    ]
    assert [s.values["smoke"] for s in out] == [False, False, True, True, False, False]
    assert {r.metric for r in log} == {"self_test", "smoke"}
    device = DeviceSpec(Ecosystem.ZIGBEE2MQTT, "stair_smoke", KindName.SMOKE)
    back = read_back(payloads(out[2], device), device)
    assert (back.values["self_test"], back.values["smoke"]) == (True, True)
    (quiet,) = SelfTest(alarm=False).apply(stream[:1], [])
    assert (quiet.values["self_test"], quiet.values["smoke"]) == (True, False)


TEST_BUTTONS = [
    (kind.name, ecosystem)
    for kind in KINDS.values()
    if kind.has_metric("self_test")
    for ecosystem in kind.ecosystems
]


@pytest.mark.parametrize(("kind", "ecosystem"), TEST_BUTTONS, ids=str)
def test_a_test_button_press_reads_back_as_self_test(kind: KindName, ecosystem: Ecosystem) -> None:
    spec = KINDS[kind]
    (alarm,) = [r.flag for r in spec.flags if r.anomaly is AnomalyType.ALARM_FLAG]
    device = DeviceSpec(ecosystem, NAMES[ecosystem], kind)
    assert "self_test" in carried(device)
    t = 1_795_312_800_000
    quiet = [Sample("s", kind, t + i * 1000, {spec.primary: 0.0, alarm: False}) for i in range(2)]
    log: list[FaultRecord] = []
    pressed, released = SelfTest(start_ms=t, end_ms=t + 1000).apply(quiet, log)
    assert {r.metric for r in log} == {"self_test", alarm}
    back = read_back(payloads(pressed, device), device)
    assert back.values["self_test"] is True
    if alarm in carried(device):  # Tasmota gas detectors send %LEL only, no alarm flag
        assert back.values[alarm] is True
    # Released: the device says so (a missing flag would leave the edge thinking it held).
    assert read_back(payloads(released, device), device).values["self_test"] is False


FLAG_FAULTS: dict[str, type[SampleFault]] = {"tamper": Tamper, "battery_low": LowBattery}
DEVICE_FLAGS = [
    (flag, kind.name, ecosystem)
    for flag in FLAG_FAULTS
    for kind in KINDS.values()
    for ecosystem in kind.ecosystems
    if flag in carried(DeviceSpec(ecosystem, NAMES[ecosystem], kind.name))
]


@pytest.mark.parametrize(("flag", "kind", "ecosystem"), DEVICE_FLAGS, ids=str)
def test_a_device_flag_reads_back_unset_after_its_fault(
    flag: str, kind: KindName, ecosystem: Ecosystem
) -> None:
    device = DeviceSpec(ecosystem, NAMES[ecosystem], kind)
    t, primary = 1_795_312_800_000, KINDS[kind].primary
    quiet = [Sample("s", kind, t + i * 1000, {primary: 0.0}, battery=80) for i in range(2)]
    during, after = FLAG_FAULTS[flag](start_ms=t, end_ms=t + 1000).apply(quiet, [])
    assert read_back(payloads(during, device), device).values[flag] is True
    # Over: the device says so (a missing flag would leave the edge thinking it still held).
    assert read_back(payloads(after, device), device).values[flag] is False


@pytest.mark.parametrize("ecosystem", [Ecosystem.ZIGBEE2MQTT, Ecosystem.CHIRPSTACK, Ecosystem.JSON])
def test_clock_skew_shifts_the_device_time(ecosystem: Ecosystem) -> None:
    log: list[FaultRecord] = []
    stream = [
        Sample("g", KindName.GAS, 1_795_312_800_000 + i * MIN, {"lel": 2.0}) for i in range(3)
    ]
    out = list(ClockSkew(seconds=-90.5, start_ms=stream[1].t_ms).apply(stream, log))
    device = DeviceSpec(ecosystem, NAMES[ecosystem], KindName.GAS)
    times = [read_back(payloads(s, device), device).times[0] for s in out]
    assert times == [stream[0].t_ms, stream[1].t_ms - 90_500, stream[2].t_ms - 90_500]
    assert [s.t_ms for s in out] == [s.t_ms for s in stream]  # the true time is kept
    assert [r.value for r in log] == [-90.5, -90.5]


def test_faults_leave_other_sensors_and_times_alone() -> None:
    stream = water(5) + water(5, sensor="w2")
    out = list(Drift("depth", 600.0, start_ms=MIN, end_ms=3 * MIN, sensor="w2").apply(stream, []))
    assert out[:5] == stream[:5]
    assert depths(out[5:]) == [10, 11, 22, 13, 14]


def test_a_missing_metric_is_left_alone() -> None:
    log: list[FaultRecord] = []
    stream = [Sample("w", KindName.WATER_LEVEL, 0, {"water_leak": True})]
    for fault in (Drift("depth", 1.0), Stuck("depth"), Spikes("depth", 1.0, probability=1.0)):
        assert list(fault.apply(stream, log)) == stream
    assert log == []


def test_windows_check_themselves() -> None:
    with pytest.raises(ValueError, match="end_ms must be after start_ms"):
        Stuck("depth", start_ms=10, end_ms=10)


def test_faults_are_data() -> None:
    fault = Spikes("depth", 5.0, probability=0.2, start_ms=1, sensor="w1", seed=3)
    assert fault == Spikes("depth", 5.0, probability=0.2, start_ms=1, sensor="w1", seed=3)
    assert hash(fault) == hash(
        Spikes("depth", 5.0, probability=0.2, start_ms=1, sensor="w1", seed=3)
    )
    assert fault.what == "sensor_spike"
    with pytest.raises(AttributeError):
        fault.seed = 4  # type: ignore[misc]
    chained = list(inject(water(), [fault, LowBattery(start_ms=5 * MIN)], []))
    assert len(chained) == 10
