"""Whatever a simulated device publishes, the real edge decoders read back to what it measured."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unit.simulators.devices.readback import read_back, spec_id, tolerance, variants

from simulators.devices import DeviceSpec, Sample, Transmitter, carried, payloads
from streetwatch.kinds import KINDS, Ecosystem, KindName

VARIANTS = variants()
T_2020, T_2100 = 1_577_836_800_000, 4_102_444_800_000


def metric_values(kind: KindName) -> st.SearchStrategy[dict[str, float | bool]]:
    """Every metric of the kind, within its physical range."""
    strategies: dict[str, Any] = {
        m.name: st.booleans() if m.is_flag else st.floats(m.low, m.high, allow_nan=False)
        for m in KINDS[kind].metrics
    }
    return st.fixed_dictionaries(strategies)


@st.composite
def samples(draw: st.DrawFn, kind: KindName) -> Sample:
    values = draw(metric_values(kind))
    t_ms = draw(st.integers(T_2020, T_2100))
    return Sample("sim-sensor-1", kind, t_ms, values)


def test_every_kind_in_every_ecosystem_it_supports() -> None:
    pairs = {(d.kind, d.ecosystem) for d in VARIANTS}
    assert pairs == {(k.name, e) for k in KINDS.values() for e in k.ecosystems}
    assert len(VARIANTS) > len(pairs)  # alternative fields (mm, kPa, ppm...) are covered too


@pytest.mark.parametrize("device", VARIANTS, ids=spec_id)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_published_values_decode_back(device: DeviceSpec, data: st.DataObject) -> None:
    sample = data.draw(samples(device.kind))
    back = read_back(payloads(sample, device, fcnt=7), device)
    expected = {m: v for m, v in sample.metrics().items() if m in carried(device)}
    assert expected, "a device that carries nothing"
    for metric, value in expected.items():
        got = back.values[metric]
        if isinstance(value, bool):
            if metric == "battery_low" and "battery_low" not in device.chosen():
                continue  # derived by the edge from a ChirpStack status batteryLevel
            assert got is value, metric
        else:
            assert math.isclose(got, value, abs_tol=tolerance(device, metric, value)), metric


@pytest.mark.parametrize("device", VARIANTS, ids=spec_id)
@settings(max_examples=20, deadline=None)
@given(t_ms=st.integers(T_2020, T_2100), skew_s=st.integers(-86_400, 86_400))
def test_device_time_decodes_back(device: DeviceSpec, t_ms: int, skew_s: int) -> None:
    kind = KINDS[device.kind]
    values = {kind.primary: kind.metric(kind.primary).low}
    sample = Sample("sim-sensor-1", device.kind, t_ms, values, skew_ms=skew_s * 1000)
    back = read_back(payloads(sample, device), device)
    want = sample.device_ms
    if device.ecosystem is Ecosystem.TASMOTA:
        want -= want % 1000  # Tasmota's Time is to the second
    assert back.times
    assert all(t == want for t in back.times)


@pytest.mark.parametrize("device", VARIANTS, ids=spec_id)
def test_devices_announce_themselves_once(device: DeviceSpec) -> None:
    kind = KINDS[device.kind]
    radio = Transmitter(device)
    first = radio.send(
        Sample("s", device.kind, T_2020, {kind.primary: kind.metric(kind.primary).low})
    )
    again = radio.send(
        Sample("s", device.kind, T_2020 + 1, {kind.primary: kind.metric(kind.primary).low})
    )
    announces = device.ecosystem in (Ecosystem.ZIGBEE2MQTT, Ecosystem.TASMOTA)
    assert read_back([m.publish for m in first], device).online is (True if announces else None)
    assert read_back([m.publish for m in again], device).online is None
    gone = read_back([m.publish for m in radio.leave("s", T_2020 + 2)], device)
    assert gone.online is (False if announces else None)
    assert all(m.publish.retain for m in radio.leave("s", 0))


@pytest.mark.parametrize("device", VARIANTS, ids=spec_id)
def test_every_flag_is_in_every_message(device: DeviceSpec) -> None:
    """False unless set: the edge reads a missing flag as unchanged, so a flag that was set
    once and then left out (tamper, battery_low, the test button) would stay set for good."""
    kind = KINDS[device.kind]
    flags = {m for m in device.chosen() if kind.metric(m).is_flag}
    sample = Sample("s", device.kind, T_2020, {kind.primary: kind.metric(kind.primary).low})
    back = read_back(payloads(sample, device), device)
    assert {m: back.values.get(m) for m in flags} == dict.fromkeys(flags, False)
