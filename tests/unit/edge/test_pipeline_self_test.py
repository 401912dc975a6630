"""A test-button press is a self-test in every ecosystem, through the whole edge pipeline.

Simulated detectors (``simulators.devices``) publish what real ones do; the pipeline routes,
decodes, validates and detects as on a gateway. A press while the alarm sounds must give
SELF_TEST findings at level NONE and no alarm, however long the button is held while the device
says so; a real alarm well after it must still page, even from a device that leaves its test
field out once the button is released.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson
import pytest

from edge.config import GatewayConfig
from edge.detectors.base import Finding
from edge.detectors.flags import SELF_TEST_GRACE_S
from edge.pipeline import Pipeline
from simulators.devices import DeviceSpec, Publish, Sample, SelfTest, carried, payloads
from streetwatch.anomalies import AnomalyType
from streetwatch.counters import Counters
from streetwatch.kinds import KINDS, Ecosystem, KindName
from streetwatch.levels import Level
from streetwatch.messages import EventState

T0 = 1_795_312_800_000  # 2026-11-22T02:00:00Z
S = 1000
DEVICES = {
    Ecosystem.ZIGBEE2MQTT: "b3/kitchen-detector",
    Ecosystem.CHIRPSTACK: "5f2c1d4e-8a7b-4c3d-9e1f-2a3b4c5d6e7f:A84041000181C9E1",
    Ecosystem.TASMOTA: "kitchen-detector",
    Ecosystem.JSON: "nbiot/kitchen-detector/up",
}
SELF_TESTING = [
    (kind.name, ecosystem)
    for kind in KINDS.values()
    if kind.has_metric("self_test")
    for ecosystem in kind.ecosystems
]


def alarm_flag(kind: KindName) -> str:
    (flag,) = [r.flag for r in KINDS[kind].flags if r.anomaly is AnomalyType.ALARM_FLAG]
    return flag


ALARMING = [  # Tasmota gas detectors report %LEL only, no alarm flag
    (k, e) for k, e in SELF_TESTING if alarm_flag(k) in carried(DeviceSpec(e, DEVICES[e], k))
]


def detector(kind: KindName, ecosystem: Ecosystem) -> tuple[DeviceSpec, Pipeline]:
    device = DeviceSpec(ecosystem, DEVICES[ecosystem], kind)
    source = {"ecosystem": ecosystem, "device": device.device}
    sensor = {"id": "detector-1", "kind": kind, "source": source}
    config = GatewayConfig.model_validate(
        {
            "gateway": {
                "id": "gw-lianyang-01",
                "area": {"district": "pudong", "street": "huamu", "community": "lianyang"},
            },
            "uplink": {"host": "127.0.0.1"},
            "sensors": [sensor],
        }
    )
    return device, Pipeline(config, Counters())


def stream(kind: KindName, seconds: int, alarm_from_s: int | None = None) -> list[Sample]:
    """A quiet detector reporting every 2 s, its alarm sounding from ``alarm_from_s``."""
    flag, primary = alarm_flag(kind), KINDS[kind].primary
    return [
        Sample("detector-1", kind, T0 + s * S, {primary: 0.0, flag: s >= (alarm_from_s or 1e9)})
        for s in range(0, seconds, 2)
    ]


def run(
    device: DeviceSpec,
    pipeline: Pipeline,
    samples: Iterable[Sample],
    edit: Callable[[Publish], Publish] = lambda publish: publish,
) -> list[Finding]:
    findings: list[Finding] = []
    for sample in samples:
        for publish in map(edit, payloads(sample, device)):
            out = pipeline.on_message(publish.topic, publish.payload, sample.t_ms)
            findings += [f for _, f in out.findings]
    assert pipeline.counters.items() == [], pipeline.counters.items()  # nothing rejected
    return findings


def leaving_out_the_released_test_field(device: DeviceSpec) -> Callable[[Publish], Publish]:
    """What a device (or codec, rule, bridge) that says ``test: true`` on a press and then just
    leaves the field out publishes: the simulated device's messages, an unset test field cut."""
    path = device.chosen()["self_test"].path

    def edit(publish: Publish) -> Publish:
        data = orjson.loads(publish.payload)
        chirpstack = device.ecosystem is Ecosystem.CHIRPSTACK
        fields: dict[str, Any] = data["object"] if chirpstack else data
        if fields.get(path) in (False, "OFF"):
            del fields[path]
        return publish._replace(payload=orjson.dumps(data))

    return edit


def raised(findings: list[Finding]) -> set[tuple[AnomalyType, Level, str | None]]:
    return {(f.type, f.level, f.metric) for f in findings if f.state is EventState.RAISED}


@pytest.mark.parametrize(("kind", "ecosystem"), SELF_TESTING, ids=str)
def test_a_test_button_press_is_a_self_test_not_an_alarm(
    kind: KindName, ecosystem: Ecosystem
) -> None:
    device, pipeline = detector(kind, ecosystem)
    press = SelfTest(start_ms=T0 + 4 * S, end_ms=T0 + 8 * S)  # held 4 s, the alarm sounding
    findings = run(device, pipeline, press.apply(stream(kind, 40), []))
    flag = alarm_flag(kind)
    expected = {(AnomalyType.SELF_TEST, Level.NONE, "self_test")}
    if flag in carried(device):  # Tasmota gas detectors report %LEL only, no alarm flag
        expected.add((AnomalyType.SELF_TEST, Level.NONE, flag))
    assert raised(findings) == expected
    assert all(f.level is Level.NONE for f in findings)
    cleared = {f.metric for f in findings if f.state is EventState.CLEARED}
    assert cleared == {m for _, _, m in expected}  # the device said the button is released
    assert pipeline.monitors["detector-1"].level is Level.NONE


@pytest.mark.parametrize(("kind", "ecosystem"), ALARMING, ids=str)
def test_a_real_alarm_after_a_press_still_is_one(kind: KindName, ecosystem: Ecosystem) -> None:
    device, pipeline = detector(kind, ecosystem)
    press = SelfTest(start_ms=T0 + 4 * S, end_ms=T0 + 8 * S)
    alarm_s = 8 + SELF_TEST_GRACE_S + 10
    findings = run(device, pipeline, press.apply(stream(kind, 60, alarm_from_s=alarm_s), []))
    real = [f for f in findings if f.type is AnomalyType.ALARM_FLAG]
    assert [(f.state, f.level, f.t) for f in real] == [
        (EventState.RAISED, Level.ORANGE, T0 + alarm_s * S)
    ]


@pytest.mark.parametrize(("kind", "ecosystem"), SELF_TESTING, ids=str)
def test_a_press_held_longer_than_the_grace_stays_a_self_test_while_the_device_says_so(
    kind: KindName, ecosystem: Ecosystem
) -> None:
    device, pipeline = detector(kind, ecosystem)
    hold_s = 3 * SELF_TEST_GRACE_S  # test: true in every message, every 2 s
    press = SelfTest(start_ms=T0 + 4 * S, end_ms=T0 + (4 + hold_s) * S)
    findings = run(device, pipeline, press.apply(stream(kind, 4 + hold_s + 30), []))
    assert [f for f in findings if f.type is AnomalyType.ALARM_FLAG] == []
    assert all(f.level is Level.NONE for f in findings)
    assert {f.metric for f in findings if f.state is EventState.CLEARED} == {
        f.metric for f in findings if f.state is EventState.RAISED
    }  # released: everything it raised is cleared
    assert pipeline.monitors["detector-1"].active == {}


@pytest.mark.parametrize(("kind", "ecosystem"), ALARMING, ids=str)
def test_a_real_alarm_after_a_press_pages_even_if_the_device_leaves_its_test_field_out(
    kind: KindName, ecosystem: Ecosystem
) -> None:
    device, pipeline = detector(kind, ecosystem)
    press = SelfTest(start_ms=T0 + 4 * S, end_ms=T0 + 8 * S)
    alarm_s = 8 + 30
    samples = press.apply(stream(kind, 60, alarm_from_s=alarm_s), [])
    findings = run(device, pipeline, samples, leaving_out_the_released_test_field(device))
    real = [f for f in findings if f.type is AnomalyType.ALARM_FLAG]
    assert [(f.state, f.level, f.t) for f in real] == [
        (EventState.RAISED, Level.ORANGE, T0 + alarm_s * S)
    ]
    assert real[0].type.pages_responders
    monitor = pipeline.monitors["detector-1"]
    assert monitor.level is Level.ORANGE
    # The press itself is never released: what `edge status` shows for such a device.
    assert monitor.active["flag:self_test"].type is AnomalyType.SELF_TEST
