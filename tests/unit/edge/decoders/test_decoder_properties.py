"""Whatever arrives on the broker, a decoder answers with a Decoded or a DecodeFailure."""

from __future__ import annotations

import math
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.decoders import Decoded, DecodeFailure, decode
from edge.decoders.base import MAX_IGNORED
from edge.discover import recognise
from streetwatch.kinds import KINDS, Ecosystem, SensorKind
from streetwatch.topics import Subject

ECOSYSTEMS = st.sampled_from(list(Ecosystem))
SUBJECTS = st.sampled_from(list(Subject))
KIND_LIST = st.sampled_from(list(KINDS.values()))

# Keys the field maps look for, so that random objects reach the conversion code too.
KNOWN_KEYS = sorted(
    {fm.path.split(".")[0] for k in KINDS.values() for maps in k.ecosystems.values() for fm in maps}
    | {"ts", "time", "timestamp", "Time", "last_seen", "state", "object", "objectJSON", "data"}
    | {"batteryLevel", "batteryLevelUnavailable", "externalPowerSource", "rxInfo", "fPort", "rssi"}
)
KEYS = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=8))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["ON", "off", "NaN", "1e999", "12.5", "2026-11-22T10:00:00+08:00", "AQI="]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=25,
)
OBJECTS = st.dictionaries(KEYS, JSON, max_size=10)


def field_maps(kind: SensorKind, ecosystem: Ecosystem) -> Any:
    return kind.ecosystems.get(ecosystem) or kind.ecosystems.get(Ecosystem.JSON, ())


def check(
    ecosystem: Ecosystem, payload: bytes, subject: Subject, kind: SensorKind
) -> Decoded | None:
    try:
        decoded = decode(ecosystem, payload, subject, field_maps(kind, ecosystem), kind)
    except DecodeFailure as failure:
        reason, text = failure.reason, str(failure)
        assert reason
        assert text
        return None
    for name, value in decoded.values.items():
        assert kind.has_metric(name)
        if kind.metric(name).is_flag:
            assert isinstance(value, bool)
        else:
            assert type(value) is float
            assert math.isfinite(value)
    if decoded.device_time_ms is not None:
        assert 0 <= decoded.device_time_ms < 2**53
    assert len(decoded.ignored) <= MAX_IGNORED
    assert decoded.values or decoded.online is not None or subject is Subject.STATUS
    return decoded


@given(ECOSYSTEMS, st.binary(max_size=300), SUBJECTS, KIND_LIST)
def test_random_bytes(
    ecosystem: Ecosystem, payload: bytes, subject: Subject, kind: SensorKind
) -> None:
    check(ecosystem, payload, subject, kind)


@given(ECOSYSTEMS, OBJECTS, SUBJECTS, KIND_LIST)
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_random_json_objects(
    ecosystem: Ecosystem, data: dict[str, Any], subject: Subject, kind: SensorKind
) -> None:
    check(ecosystem, orjson.dumps(data), subject, kind)


@given(JSON, SUBJECTS, KIND_LIST, ECOSYSTEMS)
def test_random_json_values(value: Any, subject: Subject, kind: SensorKind, eco: Ecosystem) -> None:
    check(eco, orjson.dumps(value), subject, kind)


@given(OBJECTS, JSON, st.one_of(JSON, st.text(max_size=40)), KIND_LIST, SUBJECTS)
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_random_chirpstack_envelopes(
    obj: dict[str, Any], time: Any, object_json: Any, kind: SensorKind, subject: Subject
) -> None:
    envelope = {
        "time": time,
        "data": "AQI=",
        "fPort": 2,
        "object": obj,
        "rxInfo": [{"rssi": time}, {"rssi": -97}],
        "batteryLevel": time,
    }
    check(Ecosystem.CHIRPSTACK, orjson.dumps(envelope), subject, kind)
    del envelope["object"]
    envelope["objectJSON"] = object_json
    check(Ecosystem.CHIRPSTACK, orjson.dumps(envelope), subject, kind)


def put(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = data
    for part in parents:
        child = node.get(part)
        node[part] = child = child if isinstance(child, dict) else {}
        node = child
    node[leaf] = value


@given(st.data(), KIND_LIST, OBJECTS)
def test_known_fields_with_random_values(
    draw: st.DataObject, kind: SensorKind, extra: dict[str, Any]
) -> None:
    # Every field the kind's maps read, with random scalars: the conversion code runs.
    for ecosystem, maps in kind.ecosystems.items():
        data = dict(extra)
        for fm in maps:
            put(data, fm.path, draw.draw(SCALARS))
        if ecosystem is Ecosystem.CHIRPSTACK:
            data = {"data": "AQI=", "fPort": 2, "object": data}
        check(ecosystem, orjson.dumps(data), Subject.STATE, kind)


@given(st.text(max_size=60), st.binary(max_size=200), st.sampled_from(["", "t-1", "a/b"]))
def test_recognise_never_raises_on_random_input(topic: str, payload: bytes, root: str) -> None:
    recognise(topic, payload, root=root)


@given(
    st.sampled_from(
        [
            "zigbee2mqtt/x",
            "zigbee2mqtt/x/availability",
            "application/a/device/0102/event/up",
            "application/a/device/0102/event/status",
            "tele/x/SENSOR",
            "tele/x/LWT",
            "any/topic",
        ]
    ),
    OBJECTS,
)
def test_recognise_never_raises_on_random_objects(topic: str, data: dict[str, Any]) -> None:
    guess = recognise(topic, orjson.dumps(data))
    if guess is not None and guess.kind is not None:
        assert guess.matched
        assert 0 < guess.confidence <= 1
