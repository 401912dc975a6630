"""The shared decoder helpers: registry, limits, flags, numbers, units, paths and times."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

import edge.decoders
from edge.config import GatewayConfig
from edge.decoders import DECODERS, MAX_PAYLOAD_BYTES, DecodeFailure, decode, decoder
from edge.decoders.base import (
    MAX_IGNORED,
    MISSING,
    apply_field_maps,
    as_flag,
    as_number,
    leaf_paths,
    lookup,
    metric_value,
    parse_time,
)
from streetwatch.config import load_config_text
from streetwatch.kinds import Ecosystem, FieldMap, get_kind
from streetwatch.topics import Subject

SMOKE = get_kind("smoke")
WATER = get_kind("water_level")
HYDRANT = get_kind("hydrant")
GAS = get_kind("gas")


def test_public_names() -> None:
    assert set(edge.decoders.__all__) == {
        "DECODERS",
        "MAX_PAYLOAD_BYTES",
        "DecodeFailure",
        "Decoded",
        "Decoder",
        "decode",
        "decoder",
        "chirpstack",
        "generic_json",
        "tasmota",
        "zigbee2mqtt",
    }
    for name in edge.decoders.__all__:
        assert hasattr(edge.decoders, name)


def test_every_ecosystem_has_a_decoder() -> None:
    assert set(DECODERS) == set(Ecosystem)


def test_a_second_decoder_for_an_ecosystem_is_refused() -> None:
    with pytest.raises(RuntimeError, match="two decoders"):
        decoder(Ecosystem.TASMOTA)(
            lambda payload, subject, maps, kind: DECODERS[Ecosystem.JSON](
                payload, subject, maps, kind
            )
        )
    assert DECODERS[Ecosystem.TASMOTA].__module__ == "edge.decoders.tasmota"


@pytest.mark.parametrize("ecosystem", list(Ecosystem))
def test_too_large(ecosystem: Ecosystem) -> None:
    payload = b'{"smoke": true, "pad": "' + b"x" * MAX_PAYLOAD_BYTES + b'"}'
    with pytest.raises(DecodeFailure) as info:
        decode(ecosystem, payload, Subject.STATE, SMOKE.ecosystems[Ecosystem.JSON], SMOKE)
    assert info.value.reason == "too_large"


def test_just_under_the_limit_is_decoded() -> None:
    head = b'{"smoke": true, "pad": "'
    payload = head + b"x" * (MAX_PAYLOAD_BYTES - len(head) - 2) + b'"}'
    assert len(payload) == MAX_PAYLOAD_BYTES
    decoded = decode(Ecosystem.JSON, payload, Subject.STATE, same("smoke"), SMOKE)
    assert decoded.values == {"smoke": True}
    assert decoded.ignored == ("pad",)


def same(*names: str) -> tuple[FieldMap, ...]:
    return tuple(FieldMap(n, n, None) for n in names)


@pytest.mark.parametrize(
    ("ecosystem", "subject"),
    [
        (Ecosystem.JSON, Subject.AVAILABILITY),
        (Ecosystem.JSON, Subject.STATUS),
        (Ecosystem.ZIGBEE2MQTT, Subject.STATUS),
        (Ecosystem.TASMOTA, Subject.STATUS),
        (Ecosystem.CHIRPSTACK, Subject.AVAILABILITY),
    ],
)
def test_unsupported_subject(ecosystem: Ecosystem, subject: Subject) -> None:
    with pytest.raises(DecodeFailure) as info:
        decode(ecosystem, b'{"smoke": true}', subject, same("smoke"), SMOKE)
    assert info.value.reason == "unsupported_subject"


def test_availability_that_is_not_text() -> None:
    with pytest.raises(DecodeFailure) as info:
        decode(Ecosystem.TASMOTA, b"\xff\xfeOn", Subject.AVAILABILITY, (), SMOKE)
    assert info.value.reason == "not_text"


@pytest.mark.parametrize(
    ("payload", "online"),
    [
        (b"Online", True),
        (b"OFFLINE", False),
        (b'"online"', True),
        (b' {"state":"offline"} ', False),
    ],
)
def test_availability_forms(payload: bytes, online: bool) -> None:
    decoded = decode(Ecosystem.ZIGBEE2MQTT, payload, Subject.AVAILABILITY, (), SMOKE)
    assert (decoded.online, decoded.values) == (online, {})


@pytest.mark.parametrize("payload", [b"", b"{}", b'{"state": true}', b"[1]", b"1", b"{"])
def test_bad_availability(payload: bytes) -> None:
    with pytest.raises(DecodeFailure) as info:
        decode(Ecosystem.ZIGBEE2MQTT, payload, Subject.AVAILABILITY, (), SMOKE)
    assert info.value.reason in ("bad_availability", "not_json")


def test_deeply_nested_json_is_a_failure_not_a_crash() -> None:
    payload = b'{"a":' * 5000 + b"1" + b"}" * 5000
    with pytest.raises(DecodeFailure) as info:
        decode(Ecosystem.JSON, payload, Subject.STATE, same("smoke"), SMOKE)
    assert info.value.reason == "not_json"


def test_leaf_paths_does_not_recurse() -> None:
    data: dict[str, Any] = {"v": 1}
    for _ in range(5000):
        data = {"a": data}
    [(path, value)] = leaf_paths(data)
    assert path == "a." * 5000 + "v"
    assert value == 1


def test_leaf_paths_in_payload_order() -> None:
    data = {"b": 1, "a": {"y": None, "x": [1]}, "c": {}}
    assert leaf_paths(data) == [("b", 1), ("a.y", None), ("a.x", [1])]


@pytest.mark.parametrize(
    ("path", "expected"),
    [("ENERGY.Voltage", 228), ("ENERGY", {"Voltage": 228}), ("ENERGY.Current", MISSING),
     ("ENERGY.Voltage.x", MISSING), ("Time", "t"), ("Nope", MISSING)],
)  # fmt: skip
def test_lookup(path: str, expected: Any) -> None:
    assert lookup({"Time": "t", "ENERGY": {"Voltage": 228}}, path) == expected


@pytest.mark.parametrize(
    ("raw", "flag"),
    [(True, True), (False, False), ("ON", True), ("off", False), ("true", True),
     ("False", False), (1, True), (0, False), (" On ", True)],
)  # fmt: skip
def test_flags(raw: Any, flag: bool) -> None:
    assert as_flag(raw) is flag


@pytest.mark.parametrize("raw", ["yes", "1", 2, -1, 1.0, 0.5, None, [], {}, "", "onn"])
def test_not_flags(raw: Any) -> None:
    with pytest.raises(ValueError, match="expected true/false"):
        as_flag(raw)


@pytest.mark.parametrize(
    ("raw", "number"),
    [(3, 3.0), (2.5, 2.5), ("12.5", 12.5), (" -7 ", -7.0), ("1e3", 1000.0), (".5", 0.5),
     (2**63, float(2**63))],
)  # fmt: skip
def test_numbers(raw: Any, number: float) -> None:
    assert as_number(raw) == number


@pytest.mark.parametrize(
    "raw",
    [True, False, "NaN", "nan", "inf", "-Infinity", "1_000", "", "0x10", "12 cm", "1e999",
     None, [], {}, float("nan"), float("inf"), 10**400],
)  # fmt: skip
def test_not_numbers(raw: Any) -> None:
    with pytest.raises(ValueError, match=r"number|too large"):
        as_number(raw)


@pytest.mark.parametrize(
    ("kind", "metric", "raw", "unit", "expected"),
    [
        (WATER, "depth", 305, "mm", 30.5),
        (WATER, "depth", 0.42, "m", 42.0),
        (WATER, "depth", 12, None, 12.0),
        (WATER, "depth", 12, "cm", 12.0),
        (HYDRANT, "pressure", 140, "kPa", 0.14),
        (HYDRANT, "pressure", 3, "bar", 0.3),
        (GAS, "lel", 2500, "ppm", 5.0),
        (GAS, "lel", 1, "%vol", 20.0),
        (SMOKE, "smoke_density", 0.0, "%/m", 0.0),
        (SMOKE, "smoke", "ON", "flag", True),
        (SMOKE, "smoke", 0, None, False),
    ],
)
def test_metric_value_converts_to_the_canonical_unit(
    kind: Any, metric: str, raw: Any, unit: str | None, expected: float | bool
) -> None:
    assert metric_value(raw, unit, kind.metric(metric)) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("kind", "metric", "raw", "unit", "message"),
    [
        (WATER, "depth", 3, "kPa", "cannot convert 'kPa' to cm"),
        (SMOKE, "smoke", True, "mm", "is a flag"),
        (SMOKE, "smoke_density", 150, "%/m", "outside 0..100"),
        (WATER, "depth", 1e308, "m", "too large"),
        (WATER, "depth", "deep", None, "expected a number"),
    ],
)
def test_metric_value_problems(
    kind: Any, metric: str, raw: Any, unit: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        metric_value(raw, unit, kind.metric(metric))


def test_first_field_map_with_a_value_wins() -> None:
    maps = (
        FieldMap("a", "depth", "mm"),
        FieldMap("b", "depth", "cm"),
        FieldMap("c", "depth", None),
    )
    assert apply_field_maps({"b": 5, "c": 7}, maps, WATER) == ({"depth": 5.0}, {"b"}, [])
    assert apply_field_maps({"a": 50, "b": 5}, maps, WATER) == ({"depth": 5.0}, {"a"}, [])


def test_a_bad_field_is_not_read_again_with_another_unit() -> None:
    maps = (FieldMap("d", "smoke_density", "%/m"), FieldMap("d", "smoke_density", None))
    values, read, problems = apply_field_maps({"d": 150}, maps, SMOKE)
    assert values == {}
    assert read == {"d"}
    assert len(problems) == 1
    assert problems[0].startswith("d: ")


def test_a_later_map_fills_a_metric_the_first_could_not() -> None:
    maps = (FieldMap("x", "depth", "mm"), FieldMap("y", "depth", "cm"))
    values, _, problems = apply_field_maps({"x": "deep", "y": 4}, maps, WATER)
    assert values == {"depth": 4.0}
    assert [p.split(":")[0] for p in problems] == ["x"]


def test_a_map_to_a_metric_the_kind_lacks_is_a_problem() -> None:
    values, _, problems = apply_field_maps({"p": 1, "smoke": True}, same("p", "smoke"), SMOKE)
    assert values == {"smoke": True}
    assert problems == ["p: smoke has no metric 'p'"]


def test_ignored_fields_are_capped() -> None:
    payload = orjson.dumps({"smoke": True, **{f"f{i}": i for i in range(500)}})
    decoded = decode(Ecosystem.JSON, payload, Subject.STATE, same("smoke"), SMOKE)
    assert len(decoded.ignored) == MAX_IGNORED
    assert decoded.ignored[:2] == ("f0", "f1")


def test_no_known_fields_tells_the_installer_what_to_do() -> None:
    with pytest.raises(DecodeFailure) as info:
        decode(Ecosystem.JSON, b'{"lvl": 3}', Subject.STATE, same("depth"), WATER)
    assert info.value.reason == "no_known_fields"
    assert "lvl" in str(info.value)
    assert "depth" in str(info.value)
    assert "source.fields" in str(info.value)


@pytest.mark.parametrize(
    ("raw", "ms"),
    [
        (1763805600000, 1763805600000),
        (1763805600, 1763805600000),
        (1763805600.25, 1763805600250),
        (1763805600250.0, 1763805600250),
        ("1763805600", 1763805600000),
        ("2025-11-22T10:00:00Z", 1763805600000),
        ("2025-11-22T10:00:00", 1763805600000),  # no zone: UTC
        ("2025-11-22T18:00:00+08:00", 1763805600000),
        ("2025-11-22T10:00:00.123456789+00:00", 1763805600123),
        (0, 0),
    ],
)
def test_parse_time(raw: Any, ms: int) -> None:
    assert parse_time(raw) == ms


@pytest.mark.parametrize("raw", ["soon", "", True, -5, 1e20, "NaN", [], "2026-13-01", 2**60])
def test_bad_times(raw: Any) -> None:
    with pytest.raises(ValueError, match=r"time|number|range"):
        parse_time(raw)


GATEWAY_YAML = """\
gateway: {id: gw-1, area: {district: pudong, street: huamu, community: lianyang}}
uplink: {}
sensors:
  - id: underpass-depth
    kind: water_level
    source:
      ecosystem: json
      device: sensors/underpass
      fields: [{path: level.mm, metric: depth, unit: mm}]
  - id: hydrant-7
    kind: hydrant
    source:
      ecosystem: chirpstack
      device: "app-1:0004a30b001c0002"
      fields: [{path: p, metric: pressure, unit: kPa}]
  - id: kitchen-gas
    kind: gas
    source:
      ecosystem: tasmota
      device: kitchen
      fields: [{path: MQ4.CH4, metric: lel, unit: ppm}]
"""


@pytest.mark.parametrize(
    ("sensor", "payload", "metric", "value"),
    [
        ("underpass-depth", {"level": {"mm": 305}}, "depth", 30.5),
        ("hydrant-7", {"data": "AQ==", "object": {"p": 140}}, "pressure", 0.14),
        ("kitchen-gas", {"Time": "2026-11-22T10:00:00", "MQ4": {"CH4": 5000}}, "lel", 10.0),
    ],
)
def test_units_end_to_end_from_gateway_yaml(
    sensor: str, payload: dict[str, Any], metric: str, value: float
) -> None:
    config = load_config_text(GatewayConfig, GATEWAY_YAML)
    s = config.sensor(sensor)
    decoded = decode(
        s.source.ecosystem, orjson.dumps(payload), Subject.STATE, s.field_maps(), s.sensor_kind
    )
    assert decoded.values == {metric: pytest.approx(value)}
