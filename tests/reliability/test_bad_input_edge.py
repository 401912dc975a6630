"""Bad input at the edge: whatever a device publishes, the gateway keeps going and counts it.

Every message goes through ``edge.pipeline.Pipeline.on_message``, the stage the gateway's local
broker loop calls (route, decode, validate, detect), for every (sensor kind, ecosystem) pair of
the kind table. Inputs are random bytes, random JSON, and mutations of what the simulated
devices of ``simulators.devices`` publish. Each message must end one of these ways:

* routed nowhere or refused by its decoder: exactly one count, under ``ignored`` or
  ``rejected`` (by reason), and nothing else happens;
* a reading: every value finite and within its metric's physical range; values that were not
  are each counted once as ``sensor_fault`` (and per-field trouble as ``field_problem``);
* every value impossible: no reading, each value counted once as ``sensor_fault``;
* an availability message (online/offline);
* a ChirpStack status event saying the device has no battery level to report.

``RecordingMonitor`` notes what reaches the detectors, so a reading that never arrives shows.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import orjson
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from edge.config import SensorConfig
from edge.detectors.base import Finding
from edge.detectors.monitor import MonitorResult, SensorMonitor
from edge.pipeline import Pipeline
from edge.validate import SensorFault
from reliability.payloads import T0, Device, devices, gateway_config
from reliability.strategies import bad_input, bad_payloads, mutations_of, one_of
from simulators.devices import Publish
from streetwatch.counters import Counters
from streetwatch.kinds import KINDS
from streetwatch.messages import Reading
from streetwatch.topics import Subject

DEVICES = devices()
REJECTIONS = ("rejected", "ignored")  # one count per message refused before validation
ALONGSIDE_A_READING = frozenset({"field_problem", "sensor_fault", "spike_rejected"})


class RecordingMonitor(SensorMonitor):
    """A sensor's real monitor that also notes every reading, fault and availability it gets."""

    def __init__(self, sensor: SensorConfig, log: list[tuple[str, Any]]) -> None:
        super().__init__(sensor)
        self.log = log

    def observe(self, reading: Reading, received_ms: int | None = None) -> MonitorResult:
        self.log.append(("reading", reading))
        return super().observe(reading, received_ms)

    def fault(self, fault: SensorFault, now_ms: int) -> list[Finding]:
        self.log.append(("fault", fault))
        return super().fault(fault, now_ms)

    def availability(self, online: bool, now_ms: int) -> list[Finding]:
        self.log.append(("availability", online))
        return super().availability(online, now_ms)


class Gateway:
    """The pipeline of a gateway with every device, its monitors recording."""

    def __init__(self, alert_mode: bool = False) -> None:
        self.pipeline = Pipeline(gateway_config(), Counters())
        self.pipeline.set_alert_mode(alert_mode)
        self.log: list[tuple[str, Any]] = []
        for sensor in self.pipeline.config.sensors:
            self.pipeline.monitors[sensor.id] = RecordingMonitor(sensor, self.log)

    def send(self, topic: str, payload: bytes, now_ms: int) -> tuple[Counter[str], list[Any]]:
        """Hand one message to the pipeline; what it counted (by counter) and what it did."""
        before = Counter({(w, r): n for w, r, n in self.pipeline.counters.items()})
        start = len(self.log)
        self.pipeline.on_message(topic, payload, now_ms)
        after = Counter({(w, r): n for w, r, n in self.pipeline.counters.items()})
        counted: Counter[str] = Counter()
        for (what, _), n in (after - before).items():
            counted[what] += n
        return counted, self.log[start:]

    def send_all(self, publishes: list[Publish], now_ms: int) -> list[Reading]:
        """Good messages: nothing may be counted; the readings that reached the detectors."""
        readings = []
        for publish in publishes:
            counted, did = self.send(publish.topic, publish.payload, now_ms)
            assert counted.total() == 0, (publish, counted)
            readings += [r for kind, r in did if kind == "reading"]
        return readings


def good_publishes(device: Device) -> list[Publish]:
    """What the device sends in a quiet moment: its measurements, and that it is online."""
    return device.good(T0, 0.4) + device.availability(True)


def good_payloads(device: Device) -> list[bytes]:
    return [p.payload for p in good_publishes(device)]


def device_topics(device: Device) -> st.SearchStrategy[str]:
    """The device's own topics, another device's, a topic nearly right, or any text."""
    own = st.sampled_from([device.topic(s) for s in device.subjects()])
    others = st.sampled_from([d.topic(s) for d in DEVICES for s in d.subjects()])
    broken = own.flatmap(
        lambda t: st.sampled_from([t.upper(), t + "/", t.rsplit("/", 1)[0], "/" + t, t + "/x"])
    )
    return st.one_of(own, others, broken, st.text(max_size=30))


def device_messages(device: Device) -> st.SearchStrategy[tuple[str, bytes]]:
    """(topic, payload): mostly one of the device's messages mutated, on its own topic."""
    mutated = st.sampled_from(good_publishes(device)).flatmap(
        lambda p: st.tuples(st.just(p.topic), mutations_of(p.payload))
    )
    anything = st.tuples(device_topics(device), bad_payloads(one_of(good_payloads(device))))
    return st.one_of(mutated, mutated, anything)


def says_it_has_no_battery(payload: bytes) -> bool:
    """A ChirpStack status event for a device on mains or without a battery level."""
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return False
    return isinstance(data, dict) and (
        data.get("externalPowerSource") is True or data.get("batteryLevelUnavailable") is True
    )


def check_reading(reading: Reading) -> None:
    kind = KINDS[reading.kind]
    assert 0 <= reading.t < 2**53
    assert reading.values
    for name, value in reading.values.items():
        metric = kind.metric(name)
        if metric.is_flag:
            assert isinstance(value, bool), (name, value)
        else:
            assert type(value) is float, (name, value)
            assert math.isfinite(value), (name, value)
            assert metric.in_range(value), (name, value, metric.low, metric.high)


def check_outcome(topic: str, payload: bytes, counted: Counter[str], did: list[Any]) -> str:
    """Which of the module docstring's outcomes the message had; fails if none or several."""
    what = Counter(kind for kind, _ in did)
    faults = what["fault"]
    if any(counted[r] for r in REJECTIONS):
        assert counted.total() == 1, counted
        assert not did, did
        return "rejected"
    assert not set(counted) - ALONGSIDE_A_READING, counted
    assert counted["sensor_fault"] == faults, (counted, did)
    if what["reading"]:
        assert what["reading"] == 1, did
        check_reading(next(r for kind, r in did if kind == "reading"))
        return "reading"
    if faults:
        return "impossible"
    if what["availability"]:
        assert what == Counter(availability=1), did
        assert counted.total() == 0, counted
        return "availability"
    assert topic.endswith("/event/status"), (topic, payload[:200], counted)
    assert says_it_has_no_battery(payload), (topic, payload[:200], counted)
    return "no_battery"


@bad_input(600)
@given(st.data())
def test_every_device_message_is_accepted_or_counted_once(data: st.DataObject) -> None:
    gateway = Gateway(alert_mode=data.draw(st.booleans(), label="alert_mode"))
    for i in range(data.draw(st.integers(min_value=1, max_value=4), label="messages")):
        device = data.draw(st.sampled_from(DEVICES), label="device")
        topic, payload = data.draw(device_messages(device), label="message")
        counted, did = gateway.send(topic, payload, T0 + i * 1000)
        event(check_outcome(topic, payload, counted, did))


@pytest.mark.parametrize("device", DEVICES, ids=[d.sensor for d in DEVICES])
def test_the_payloads_mutated_are_good_to_begin_with(device: Device) -> None:
    gateway = Gateway()
    for i, publish in enumerate(good_publishes(device)):
        counted, did = gateway.send(publish.topic, publish.payload, T0 + i)
        assert counted.total() == 0, counted
        outcome = check_outcome(publish.topic, publish.payload, counted, did)
        assert outcome in ("reading", "availability")


KNOWN_BAD = [
    # (sensor, subject, payload, outcome): one of each outcome, so that none is left untried.
    ("water-level-json", Subject.STATE, b'{"depth": 1e6, "ts": 1795312800000}', "impossible"),
    ("water-level-json", Subject.STATE, b'{"depth": 1e6, "battery": 50}', "reading"),
    ("water-level-json", Subject.STATE, b'{"depth": NaN}', "rejected"),
    ("water-level-json", Subject.STATE, b'{"depth": "NaN"}', "rejected"),
    ("smoke-zigbee2mqtt", Subject.AVAILABILITY, b"OFFLINE", "availability"),
    ("smoke-zigbee2mqtt", Subject.AVAILABILITY, b'{"state": "maybe"}', "rejected"),
    ("power-tasmota", Subject.AVAILABILITY, b"Offline", "availability"),
    ("manhole-cover-chirpstack", Subject.STATUS, b'{"externalPowerSource": true}', "no_battery"),
    ("manhole-cover-chirpstack", Subject.STATUS, b'{"batteryLevel": 55}', "reading"),
    # Found by this suite: both were dropped without being counted.
    ("manhole-cover-chirpstack", Subject.STATUS, b"{}", "rejected"),
    ("manhole-cover-chirpstack", Subject.STATUS, b'{"batteryLevel": "full"}', "rejected"),
]


@pytest.mark.parametrize(("sensor", "subject", "payload", "outcome"), KNOWN_BAD)
def test_known_bad_messages(sensor: str, subject: Subject, payload: bytes, outcome: str) -> None:
    device = next(d for d in DEVICES if d.sensor == sensor)
    topic = device.topic(subject)
    counted, did = Gateway().send(topic, payload, T0)
    assert check_outcome(topic, payload, counted, did) == outcome


@bad_input(400)
@given(st.data())
def test_a_bad_message_between_good_ones_loses_neither(data: st.DataObject) -> None:
    device = data.draw(st.sampled_from(DEVICES), label="device")
    gateway = Gateway()
    first, second = T0, T0 + 60_000
    bad_topic = data.draw(st.sampled_from([device.topic(s) for s in device.subjects()]))
    good_bytes = one_of(good_payloads(device))
    bad = data.draw(good_bytes.flatmap(mutations_of) | bad_payloads(good_bytes), label="bad")

    before = gateway.send_all(device.good(first, 0.2), first)
    counted, did = gateway.send(bad_topic, bad, first + 1000)
    event(check_outcome(bad_topic, bad, counted, did))
    after = gateway.send_all(device.good(second, 0.7), second)

    primary = device.kind.primary
    for t, level, got in ((first, 0.2, before), (second, 0.7, after)):
        expected = device.sample(t, level).metrics()[primary]
        assert [r.values.get(primary) for r in got if r.t == t and primary in r.values] == [
            pytest.approx(expected)
        ], (t, got)
