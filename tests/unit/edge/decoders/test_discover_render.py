"""The rendered sensors: block is valid gateway.yaml and says what the installer must do."""

from __future__ import annotations

import re

import pytest

from edge.config import GatewayConfig
from edge.discover import DeviceGuess, Discovery, render_sensors_yaml, sensor_id
from streetwatch.config import ConfigError, load_config_text
from streetwatch.kinds import Ecosystem, FieldMap, KindName
from unit.edge.decoders.payload_cases import load_cases

HEAD = """\
gateway:
  id: gw-1
  area: {district: pudong, street: huamu, community: lianyang}
uplink: {}
"""


def load(block: str) -> GatewayConfig:
    return load_config_text(GatewayConfig, HEAD + block, "gateway.yaml")


def discovered(root: str = "") -> Discovery:
    d = Discovery(root)
    for case in load_cases():
        topic = f"{root}/{case.topic}" if root else case.topic
        d.observe(topic, case.payload)
    return d


@pytest.mark.parametrize("root", ["", "t-1a2b"])
def test_the_block_for_every_fixture_loads(root: str) -> None:
    guesses = discovered(root).guesses
    block = render_sensors_yaml(guesses)
    config = load(block)
    known = [g for g in guesses if g.kind is not None]
    assert len(known) >= 20
    assert len(config.sensors) == len(known)
    by_device = {(s.source.ecosystem, s.source.device): s for s in config.sensors}
    for guess in known:
        sensor = by_device[(guess.ecosystem, guess.device)]
        assert sensor.kind == guess.kind
        assert sensor.source.base_topic == guess.base
        assert {(f.path, f.metric, f.unit) for f in sensor.source.fields} == {
            (m.path, m.metric, m.unit) for m in guess.field_maps
        }
    if root:
        assert all(s.source.base_topic for s in config.sensors if s.source.ecosystem != "json")
    unknown = [g for g in guesses if g.kind is None]
    assert unknown
    for guess in unknown:
        assert f'#     device: "{guess.device}"' in block


def test_unknown_devices_are_commented_out_with_a_reason() -> None:
    d = Discovery()
    d.observe("tele/sump-1/SENSOR", b'{"ANALOG": {"A0": 512}, "SR04": {"Distance": 12.3}}')
    d.observe("zigbee2mqtt/door/availability", b'{"state": "online"}')
    d.observe("lab/multi", b'{"lel": 3, "depth": 12}')
    block = render_sensors_yaml(d.guesses)
    assert block.startswith("sensors: []")
    assert "kind unknown (fields: ANALOG.A0, SR04.Distance)" in block
    assert "no readings seen yet, only its availability" in block
    assert "could be gas or water_level" in block
    assert all(line.lstrip().startswith("#") for line in block.splitlines()[1:])
    assert load(block).sensors == ()


def test_suggested_fields_say_when_the_unit_is_assumed() -> None:
    d = Discovery()
    d.observe("sensors/basement", b'{"waterLevel_mm": 230, "signal": -80}')
    block = render_sensors_yaml(d.guesses)
    assert '- {path: "waterLevel_mm", metric: depth, unit: "mm"}\n' in block
    assert '- {path: "signal", metric: rssi}  # assumed in dBm: check' in block
    [sensor] = load(block).sensors
    assert sensor.field_maps()[:2] == (
        FieldMap("waterLevel_mm", "depth", "mm"),
        FieldMap("signal", "rssi", None),
    )


def guess(device: str, name: str = "", kind: KindName | None = KindName.SMOKE) -> DeviceGuess:
    return DeviceGuess(
        Ecosystem.JSON, device, device, kind, ("smoke",), 0.9, name=name, fields=("smoke",)
    )


@pytest.mark.parametrize(
    ("device", "name", "slug"),
    [
        ("kitchen/smoke 1", "", "kitchen-smoke-1"),
        ("x", "Hydrant 07", "hydrant-07"),
        ("a_b", "", "a_b"),
        ("--Odd__Name--", "", "odd__name"),
        ("x" * 100, "", "x" * 64),
    ],
)
def test_sensor_id(device: str, name: str, slug: str) -> None:
    assert sensor_id(guess(device, name)) == slug


def test_a_name_without_latin_letters_gets_a_stable_id() -> None:
    first, again, other = (sensor_id(guess(d, "井盖")) for d in ("dev/1", "dev/1", "dev/2"))
    assert re.fullmatch(r"json-[0-9a-f]{8}", first)
    assert first == again != other


def test_ids_stay_unique_and_odd_names_stay_valid_yaml() -> None:
    odd = 'quote"colon: #hash\nnewline'
    guesses = [guess("kitchen/smoke"), guess("kitchen smoke"), guess(odd), guess("a", "", None)]
    config = load(render_sensors_yaml(guesses))
    ids = [s.id for s in config.sensors]
    assert ids == ["kitchen-smoke", "kitchen-smoke-2", "quote-colon-hash-newline"]
    assert config.sensors[2].source.device == odd


def test_a_bad_block_would_be_caught() -> None:
    # The loader is strict: the test above would notice a rendering mistake.
    with pytest.raises(ConfigError, match="kind"):
        load(render_sensors_yaml([guess("a")]).replace("kind: smoke", "kind: fire"))
