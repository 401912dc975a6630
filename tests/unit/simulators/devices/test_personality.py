"""What each personality's messages look like, beyond reading back: the details real ones have."""

from __future__ import annotations

from base64 import b64decode

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from unit.simulators.devices.readback import NAMES, read_back

import simulators.devices
from edge.decoders import decode
from simulators.devices import (
    ENCODERS,
    DeviceSpec,
    Dropout,
    Sample,
    Transmitter,
    deliver,
    payloads,
)
from simulators.devices.chirpstack import frame, unframe
from simulators.devices.encoding import local_time, nest, to_device_unit
from streetwatch.kinds import Ecosystem, FieldMap, KindName
from streetwatch.topics import Subject
from streetwatch.units import Unit, accepted_units, convert

T = 1_795_312_800_123  # 2026-11-22T02:00:00.123Z, 10:00 in Beijing
CS = NAMES[Ecosystem.CHIRPSTACK]


def body(device: DeviceSpec, sample: Sample, index: int = 0) -> dict[str, object]:
    data = orjson.loads(payloads(sample, device)[index].payload)
    assert isinstance(data, dict)
    return data


def test_public_names() -> None:
    for name in simulators.devices.__all__:
        assert hasattr(simulators.devices, name)
    assert set(ENCODERS) == set(Ecosystem)


def test_zigbee2mqtt_publishes_full_state_with_its_field_names() -> None:
    device = DeviceSpec(Ecosystem.ZIGBEE2MQTT, "stair_smoke_2", KindName.SMOKE)
    sample = Sample("s1", KindName.SMOKE, T, {"smoke": True, "smoke_density": 0.41}, battery=87)
    publish = payloads(sample, device)[0]
    assert (publish.topic, publish.retain) == ("zigbee2mqtt/stair_smoke_2", False)
    assert orjson.loads(publish.payload) == {
        "smoke": True,
        "battery_low": False,
        "tamper": False,
        "test": False,
        "smoke_density_dbm": 0.41,
        "battery": 87,
        "last_seen": "2026-11-22T10:00:00.123+08:00",
    }
    silent = DeviceSpec(Ecosystem.ZIGBEE2MQTT, "s", KindName.SMOKE, timestamps=False)
    assert "last_seen" not in body(silent, sample)


def test_chirpstack_uplink_envelope() -> None:
    device = DeviceSpec(Ecosystem.CHIRPSTACK, CS, KindName.WATER_LEVEL)
    sample = Sample("underpass-1", KindName.WATER_LEVEL, T, {"depth": 12.34}, battery=88, rssi=-97)
    (publish,) = payloads(sample, device, fcnt=42)
    app, _, eui = CS.partition(":")
    assert publish.topic == f"application/{app}/device/{eui.lower()}/event/up"
    up = orjson.loads(publish.payload)
    assert up["fCnt"] == 42
    assert up["fPort"] == 2
    assert up["time"] == "2026-11-22T02:00:00.123000+00:00"
    assert up["deviceInfo"]["devEui"] == eui.lower()
    assert up["deviceInfo"]["deviceName"] == "underpass-1"
    assert up["rxInfo"][0]["rssi"] == -97
    # Every flag the codec decodes is in every uplink, false unless set.
    assert up["object"] == {
        "depth": 12.3,
        "battery": 88.0,
        "water_leak": False,
        "battery_low": False,
    }
    layout = [("depth", False), ("battery", False), ("water_leak", True), ("battery_low", True)]
    assert unframe(b64decode(up["data"]), layout) == up["object"]


def test_chirpstack_battery_without_a_codec_field_goes_in_a_status_event() -> None:
    device = DeviceSpec(Ecosystem.CHIRPSTACK, CS, KindName.MANHOLE_COVER)
    sample = Sample("m1", KindName.MANHOLE_COVER, T, {"tilt": 3.0, "open": False}, battery=12)
    up, status = payloads(sample, device)
    assert status.topic.endswith("/event/status")
    assert orjson.loads(status.payload)["batteryLevel"] == 12
    assert read_back([up, status], device).values["battery_low"] is True


@given(st.lists(st.one_of(st.booleans(), st.integers(-(10**6), 10**6)), max_size=12))
def test_the_codec_reads_the_frame(ints: list[bool | int]) -> None:
    values = [v if isinstance(v, bool) else v / 1000 for v in ints]
    if sum(isinstance(v, bool) for v in values) > 8:
        with pytest.raises(ValueError, match="at most 8 flags"):
            frame(values)
        return
    layout = [(f"f{i}", isinstance(v, bool)) for i, v in enumerate(values)]
    assert list(unframe(frame(values), layout).values()) == values


def test_fcnt_counts_up_and_a_lost_uplink_leaves_a_gap() -> None:
    device = DeviceSpec(Ecosystem.CHIRPSTACK, CS, KindName.GAS)
    radio = Transmitter(device, fcnt=10)
    sent = [m for i in range(5) for m in radio.send(Sample("g", KindName.GAS, T + i, {"lel": 1.0}))]
    lost = deliver(sent, [Dropout(start_ms=T + 2, end_ms=T + 3)], [])
    assert [orjson.loads(m.publish.payload)["fCnt"] for m in lost] == [10, 11, 13, 14]


def test_tasmota_sections_switches_and_time_zone() -> None:
    power = DeviceSpec(Ecosystem.TASMOTA, "mains-meter", KindName.POWER)
    sample = Sample("p", KindName.POWER, T, {"mains_voltage": 228.04, "on_battery": True})
    assert body(power, sample) == {
        "Time": "2026-11-22T10:00:00+08:00",
        "ENERGY": {"Voltage": 228.0},
    }
    flags = DeviceSpec(Ecosystem.TASMOTA, "smoke-t", KindName.SMOKE)
    assert body(flags, Sample("s", KindName.SMOKE, T, {"smoke": True}))["smoke"] == "ON"
    # Without SetOption52 Tasmota sends Beijing time without a zone, which reads as UTC: 8 h ahead.
    local = DeviceSpec(Ecosystem.TASMOTA, "mains-meter", KindName.POWER, tasmota_zone=False)
    (publish,) = payloads(sample, local)
    decoded = decode(
        Ecosystem.TASMOTA, publish.payload, Subject.STATE, local.field_maps(), local.sensor_kind
    )
    assert decoded.device_time_ms == T - T % 1000 + 8 * 3600 * 1000


def test_json_is_flat_on_the_exact_topic() -> None:
    device = DeviceSpec(Ecosystem.JSON, "nbiot/w1/up", KindName.WATER_LEVEL)
    sample = Sample("w1", KindName.WATER_LEVEL, T, {"depth": 31.25, "water_leak": True}, battery=90)
    (publish,) = payloads(sample, device)
    assert publish.topic == "nbiot/w1/up"
    assert orjson.loads(publish.payload) == {
        "depth": 31.2,
        "water_leak": True,
        "battery": 90,
        "battery_low": False,
        "ts": T,
    }


def test_replays_are_byte_for_byte() -> None:
    for ecosystem, name in NAMES.items():
        device = DeviceSpec(ecosystem, name, KindName.SMOKE)
        sample = Sample("s", KindName.SMOKE, T, {"smoke_density": 0.2}, battery=50, rssi=-80)
        assert payloads(sample, device) == payloads(sample, device)


def test_specs_and_samples_check_themselves() -> None:
    with pytest.raises(ValueError, match="mappings for: chirpstack, tasmota, json"):
        DeviceSpec(Ecosystem.ZIGBEE2MQTT, "h", KindName.HYDRANT)
    custom = (FieldMap("pressure_bar", "pressure", "bar"),)
    assert DeviceSpec(Ecosystem.ZIGBEE2MQTT, "h", KindName.HYDRANT, fields=custom).chosen()
    with pytest.raises(ValueError, match="16 hex digits"):
        DeviceSpec(Ecosystem.CHIRPSTACK, "app:not-an-eui", KindName.GAS)
    with pytest.raises(ValueError, match="is not a MPa"):
        DeviceSpec(
            Ecosystem.JSON, "t", KindName.HYDRANT, fields=(FieldMap("p", "pressure", "ppm"),)
        )
    with pytest.raises(ValueError, match="smoke must be a bool"):
        Sample("s", KindName.SMOKE, T, {"smoke": 1.0})
    with pytest.raises(ValueError, match="finite number"):
        Sample("s", KindName.SMOKE, T, {"smoke_density": float("nan")})
    with pytest.raises(KeyError, match="no metric 'depth'"):
        Sample("s", KindName.SMOKE, T, {"depth": 1.0})
    with pytest.raises(ValueError, match="a gas for"):
        payloads(
            Sample("s", KindName.GAS, T, {"lel": 1.0}),
            DeviceSpec(Ecosystem.JSON, "t", KindName.SMOKE),
        )


@pytest.mark.parametrize("unit", list(Unit))
def test_device_units_invert_the_edge_conversions(unit: Unit) -> None:
    for source in accepted_units(unit):
        for value in (0.0, 0.05, 1.0, 37.5):
            assert convert(to_device_unit(value, source, unit), source, unit) == pytest.approx(
                value
            )


def test_helpers() -> None:
    assert nest([("a", 1), ("B.c", 2), ("B.d", 3)]) == {"a": 1, "B": {"c": 2, "d": 3}}
    assert local_time(T, 0) == "2026-11-22T02:00:00+00:00"
    assert local_time(T, 8 * 3600, zone=False) == "2026-11-22T10:00:00"
