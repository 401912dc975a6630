"""Discovery: ecosystem, device id and kind from one message, and merging across messages."""

from __future__ import annotations

import orjson
import pytest

from edge.decoders import decode
from edge.discover import Discovery, recognise, similar_metric, subscriptions
from streetwatch.kinds import Ecosystem, KindName, get_kind
from streetwatch.topics import Subject
from unit.edge.decoders.payload_cases import Case, load_cases

CASES = [c for c in load_cases() if "discover" in c.expect]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_recognise_fixture(case: Case) -> None:
    expected = case.expect["discover"]
    guess = recognise(case.topic, case.payload)
    if expected is False:
        assert guess is None
        return
    assert guess is not None
    assert guess.ecosystem is case.ecosystem
    assert guess.device == case.device_topic.device
    assert guess.kind == (None if expected is None else KindName(expected))
    if guess.kind is None:
        assert guess.confidence == 0
        assert guess.matched == ()
    else:
        assert 0.3 <= guess.confidence <= 0.9
        assert set(guess.matched) <= set(guess.fields)


def test_fixtures_exercise_discovery() -> None:
    kinds = {c.expect["discover"] for c in CASES}
    assert {"smoke", "gas", "water_level", "hydrant", "manhole_cover", "power"} <= kinds
    assert {None, False} <= kinds


@pytest.mark.parametrize(
    "topic",
    [
        "$SYS/broker/uptime",
        "sw/v1/pudong/huamu/gw-1/data",
        "zigbee2mqtt/bridge/state",
        "zigbee2mqtt/bridge/devices",
        "zigbee2mqtt/kitchen_smoke/set",
        "application/app/device/0102030405060708/event/join",
        "application/app/device/0102030405060708/event/log",
        "tele/pump/STATE",
        "stat/pump/STATUS10",
        "homeassistant/sensor/0x00158d/smoke/config",
    ],
)
def test_not_devices(topic: str) -> None:
    assert recognise(topic, b'{"smoke": true, "depth": 3, "Uptime": 5}') is None


def test_generic_json_needs_readable_fields() -> None:
    assert recognise("office/info", b'{"name": "x", "list": [1, 2]}') is None
    assert recognise("office/raw", b"12.5") is None
    guess = recognise("office/level", b'{"depth": "12.5"}')
    assert guess is not None
    assert (guess.ecosystem, guess.device, guess.kind) == (
        Ecosystem.JSON,
        "office/level",
        KindName.WATER_LEVEL,
    )


def test_a_topic_root_prefixes_every_tree() -> None:
    root = "t-1a2b"
    assert subscriptions(root) == [
        "t-1a2b/zigbee2mqtt/#",
        "t-1a2b/application/+/device/+/event/+",
        "t-1a2b/tele/+/+",
        "t-1a2b/#",
    ]
    assert subscriptions() == [
        "zigbee2mqtt/#",
        "application/+/device/+/event/+",
        "tele/+/+",
        "#",
    ]
    smoke = b'{"smoke": true}'
    assert recognise("zigbee2mqtt/a", smoke, root=root) is None  # outside the root
    assert recognise(f"{root}/sw/v1/d/s/g/data", b'{"depth": 1}', root=root) is None
    z2m = recognise(f"{root}/zigbee2mqtt/a", smoke, root=root)
    assert z2m is not None
    assert (z2m.ecosystem, z2m.device, z2m.base) == (
        Ecosystem.ZIGBEE2MQTT,
        "a",
        f"{root}/zigbee2mqtt",
    )
    plain = recognise(f"{root}/sensors/a", smoke, root=root)
    assert plain is not None
    assert (plain.ecosystem, plain.device) == (Ecosystem.JSON, f"{root}/sensors/a")
    assert plain.base is None


def test_chirpstack_device_is_application_and_lowercase_eui() -> None:
    info = {"deviceName": "Hydrant 7"}
    payload = orjson.dumps({"deviceInfo": info, "data": "AQ==", "object": {"pressure": 0.3}})
    guess = recognise("application/app-1/device/0004A30B001C0002/event/up", payload)
    assert guess is not None
    assert (guess.device, guess.name, guess.kind) == (
        "app-1:0004a30b001c0002",
        "Hydrant 7",
        KindName.HYDRANT,
    )


@pytest.mark.parametrize(
    ("field", "kind", "expected"),
    [
        ("waterLevel_mm", "water_level", ("depth", "mm")),
        ("depth_cm", "water_level", ("depth", None)),
        ("level", "water_level", ("depth", None)),
        ("ch4_ppm", "gas", ("lel", "ppm")),
        ("CH4", "gas", ("lel", None)),
        ("pressure_kpa", "hydrant", ("pressure", "kPa")),
        ("ANALOG.Pressure1", "hydrant", ("pressure", None)),
        ("presure", "hydrant", ("pressure", None)),
        ("isOpen", "manhole_cover", ("open", None)),
        ("tiltAngle_deg", "manhole_cover", ("tilt", None)),
        ("batteryLevel", "smoke", ("battery", None)),
        ("smokeDensity", "smoke", ("smoke_density", None)),
        ("gas_mm", "gas", None),  # a flag has no unit
        ("depth_kpa", "water_level", None),  # not a unit of depth
        ("voltage", "power", None),  # Zigbee battery voltage is not mains voltage
        ("temperature", "smoke", None),
        ("value", "hydrant", None),
    ],
)
def test_similar_metric(field: str, kind: str, expected: tuple[str, str | None] | None) -> None:
    assert similar_metric(field, get_kind(kind)) == expected


def test_zigbee2mqtt_names_are_taken_from_the_table_only() -> None:
    guess = recognise("zigbee2mqtt/x", b'{"waterLevel_mm": 3, "battery": 90}')
    assert guess is not None
    assert guess.kind is None


def test_equally_good_kinds_are_not_chosen() -> None:
    guess = recognise("lab/multi", b'{"lel": 3, "depth": 12}')
    assert guess is not None
    assert guess.kind is None
    assert set(guess.candidates) == {KindName.GAS, KindName.WATER_LEVEL}


def test_the_primary_metric_breaks_a_tie() -> None:
    guess = recognise("road/cover", b'{"tilt": 3}')  # hydrant has tilt; manhole covers are tilt
    assert guess is not None
    assert guess.kind is KindName.MANHOLE_COVER
    assert guess.confidence == pytest.approx(0.45)


def test_suggested_field_maps_decode_the_device() -> None:
    payload = b'{"tiltAngle_deg": 3.5, "isOpen": false, "batteryLevel": 77, "ts": 1763805600}'
    guess = recognise("sensors/road/cover-1", payload)
    assert guess is not None
    assert guess.kind is KindName.MANHOLE_COVER
    kind = get_kind(guess.kind)
    maps = (*guess.field_maps, *kind.ecosystems[Ecosystem.JSON])
    decoded = decode(Ecosystem.JSON, payload, Subject.STATE, maps, kind)
    assert decoded.values == {"tilt": 3.5, "open": False, "battery": 77.0}
    assert decoded.ignored == ()


def test_discovery_merges_availability_and_state() -> None:
    d = Discovery()
    first = d.observe("zigbee2mqtt/hall/smoke/availability", b'{"state":"online"}')
    assert first is not None
    assert first.kind is None
    assert first.online is True
    d.observe("zigbee2mqtt/hall/smoke", b'{"battery": 90}')
    merged = d.observe("zigbee2mqtt/hall/smoke", b'{"smoke": false, "linkquality": 30}')
    d.observe("zigbee2mqtt/hall/smoke/availability", b"offline")
    assert merged is not None
    [guess] = d.guesses
    assert guess.device == "hall/smoke"
    assert guess.topic == "zigbee2mqtt/hall/smoke"
    assert guess.kind is KindName.SMOKE
    assert guess.fields == ("battery", "smoke", "linkquality")
    assert set(guess.matched) == {"battery", "smoke", "linkquality"}
    assert guess.online is False
    assert d.messages == 4


def test_discovery_keeps_devices_apart_and_ignores_noise() -> None:
    d = Discovery()
    d.observe("zigbee2mqtt/a", b'{"gas": true}')
    d.observe("zigbee2mqtt/b", b'{"water_leak": false}')
    d.observe("zigbee2mqtt/bridge/state", b'{"state": "online"}')
    d.observe("application/x/device/0A/event/up", b'{"data": "AQ==", "object": {"lel": 4}}')
    d.observe("application/x/device/0a/event/status", b'{"batteryLevel": 50}')
    d.observe("random/text", b"hello")
    assert [(g.ecosystem, g.device, g.kind) for g in d.guesses] == [
        (Ecosystem.CHIRPSTACK, "x:0a", KindName.GAS),
        (Ecosystem.ZIGBEE2MQTT, "a", KindName.GAS),
        (Ecosystem.ZIGBEE2MQTT, "b", KindName.WATER_LEVEL),
    ]
