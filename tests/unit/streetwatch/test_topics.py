from __future__ import annotations

import re

import pytest
from paho.mqtt.client import topic_matches_sub

from streetwatch.kinds import Ecosystem
from streetwatch.topics import (
    Channel,
    DeviceTopic,
    GatewayTopic,
    IncidentTopic,
    Scope,
    Subject,
    TopicError,
    TopicTree,
    device_filter,
    parse_device_topic,
)

PREFIXES = ["", "t-1234abcd", "city/shanghai"]
TOPICS: list[GatewayTopic | IncidentTopic] = [
    GatewayTopic("pd", "hm", "gw-1", Channel.STATE),
    GatewayTopic("pd", "hm", "gw-1", Channel.DATA),
    GatewayTopic("pd", "hm", "gw-1", Channel.EVENT),
    GatewayTopic("pd", "hm", "gw-1", Channel.HEALTH),
    GatewayTopic("pd", "hm", "gw-1", Channel.CMD, "alert_mode"),
    GatewayTopic("pd", "hm", "gw-1", Channel.CMD, "confirm"),
    IncidentTopic("pd", "hm"),
    # A gateway may be called like a channel or like the incident segment.
    GatewayTopic("pd", "hm", "incident", Channel.DATA),
    GatewayTopic("pd", "hm", "data", Channel.CMD, "ping"),
]


def _joined(prefix: str, rest: str) -> str:
    return f"{prefix}/{rest}" if prefix else rest


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("topic", TOPICS, ids=str)
def test_build_parse_round_trip(prefix: str, topic: GatewayTopic | IncidentTopic) -> None:
    tree = TopicTree(prefix)
    text = tree.build(topic)
    assert tree.parse(text) == topic
    assert text.startswith(_joined(prefix, "sw/v1/"))


@pytest.mark.parametrize(
    ("topic", "text"),
    [
        (GatewayTopic("pd", "hm", "gw-1", Channel.DATA), "sw/v1/pd/hm/gw-1/data"),
        (GatewayTopic("pd", "hm", "gw-1", Channel.STATE), "sw/v1/pd/hm/gw-1/state"),
        (GatewayTopic("pd", "hm", "gw-1", Channel.CMD, "ping"), "sw/v1/pd/hm/gw-1/cmd/ping"),
        (IncidentTopic("pd", "hm"), "sw/v1/pd/hm/incident"),
    ],
)
@pytest.mark.parametrize("prefix", PREFIXES)
def test_exact_strings(prefix: str, topic: GatewayTopic | IncidentTopic, text: str) -> None:
    assert TopicTree(prefix).build(topic) == _joined(prefix, text)


def test_convenience_builders() -> None:
    tree = TopicTree("t-1")
    assert tree.gateway("pd", "hm", "gw-1", Channel.HEALTH) == "t-1/sw/v1/pd/hm/gw-1/health"
    assert tree.gateway("pd", "hm", "gw-1", Channel.CMD, "rebirth") == (
        "t-1/sw/v1/pd/hm/gw-1/cmd/rebirth"
    )
    assert tree.incident("pd", "hm") == "t-1/sw/v1/pd/hm/incident"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sw/v1/PD/hm/gw-1/data", "capitals"),
        ("sw/v1/pd/hm/GW/data", "capitals"),
        ("sw/v1/pd/h+m/gw-1/data", "'+'"),
        ("sw/v1/pd/hm/+/data", "'+'"),
        ("sw/v1/pd/hm/#", "shape"),
        ("sw/v1/pd/hm/gw#/data", "'#'"),
        ("sw/v1//hm/gw-1/data", "district is empty"),
        ("sw/v1/pd/hm//data", "gateway is empty"),
        ("sw/v1/pd/hm/gw-1/cmd", "command name goes with the cmd channel"),
        ("sw/v1/pd/hm/gw-1/cmd/", "command name is empty"),
        ("sw/v1/pd/hm/gw-1/data/ping", "shape"),
        ("sw/v1/pd/hm/gw-1/cmd/ping/now", "shape"),
        ("sw/v1/pd/hm/gw-1/telemetry", "unknown channel 'telemetry'"),
        ("sw/v1/pd/hm/gw-1/DATA", "unknown channel 'DATA'"),
        ("sw/v1/pd/hm/gw-1/cmd/Ping", "capitals"),
        ("sw/v2/pd/hm/gw-1/data", "not under sw/v1/"),
        ("sv/v1/pd/hm/gw-1/data", "not under sw/v1/"),
        ("/sw/v1/pd/hm/gw-1/data", "not under sw/v1/"),
        ("sw/v1/pd/hm/gw-1/data/", "shape"),
        ("sw/v1/pd/hm", "shape"),
        ("sw/v1/pd/hm/gw-1", "shape"),
        ("sw/v1/pd/hm/gw-1/x/y/z", "shape"),
        ("sw/v1", "shape"),
        ("", "not under"),
        ("sw/v1/pd/hm/gw-1/cmd/ping", None),  # the one valid topic, to prove the table can pass
    ],
)
def test_refused_topics(text: str, expected: str | None) -> None:
    tree = TopicTree()
    if expected is None:
        tree.parse(text)
        return
    with pytest.raises(TopicError, match=re.escape(expected)):
        tree.parse(text)


@pytest.mark.parametrize(
    ("prefix", "text"),
    [
        ("t-1234abcd", "sw/v1/pd/hm/gw-1/data"),
        ("t-1234abcd", "t-other/sw/v1/pd/hm/gw-1/data"),
        ("city/shanghai", "city/sw/v1/pd/hm/gw-1/data"),
        ("", "t-1234abcd/sw/v1/pd/hm/gw-1/data"),
    ],
)
def test_wrong_root(prefix: str, text: str) -> None:
    with pytest.raises(TopicError, match="is not under"):
        TopicTree(prefix).parse(text)


@pytest.mark.parametrize("prefix", ["T-1", "a//b", "a/+", "#", "/a", "a/", "空"])
def test_bad_prefix(prefix: str) -> None:
    with pytest.raises(TopicError, match="topic prefix segment"):
        TopicTree(prefix)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (("PD", "hm", "gw-1", Channel.DATA, None), "district"),
        (("pd", "h/m", "gw-1", Channel.DATA, None), "street"),
        (("pd", "hm", "", Channel.DATA, None), "gateway"),
        (("pd", "hm", "gw+", Channel.DATA, None), "gateway"),
        (("pd", "hm", "gw-1", Channel.CMD, None), "command name goes with"),
        (("pd", "hm", "gw-1", Channel.DATA, "ping"), "command name goes with"),
        (("pd", "hm", "gw-1", Channel.CMD, "#"), "command name"),
        (("pd", "hm", "gw-1", Channel.CMD, ""), "command name"),
    ],
)
def test_gateway_topic_validates_itself(
    fields: tuple[str, str, str, Channel, str | None], expected: str
) -> None:
    with pytest.raises(TopicError, match=re.escape(expected)):
        GatewayTopic(*fields)


def test_incident_topic_validates_itself() -> None:
    with pytest.raises(TopicError, match="street"):
        IncidentTopic("pd", "H M")


# ---------------------------------------------------------------------------------------------
# Scopes and subscription filters.


@pytest.mark.parametrize(
    ("text", "scope"),
    [
        ("", Scope()),
        ("*", Scope()),
        ("pd", Scope("pd")),
        ("pd/hm", Scope("pd", "hm")),
    ],
)
def test_scope_parse(text: str, scope: Scope) -> None:
    assert Scope.parse(text) == scope


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pd/hm/gw-1", "must be 'district' or 'district/street'"),
        ("PD", "capitals"),
        ("pd/", "street is empty"),
        ("/hm", "district is empty"),
        ("pd/+", "'+'"),
        ("#", "'#'"),
    ],
)
def test_scope_parse_refuses(text: str, expected: str) -> None:
    with pytest.raises(TopicError, match=re.escape(expected)):
        Scope.parse(text)


def test_street_scope_needs_a_district() -> None:
    with pytest.raises(TopicError, match="needs its district"):
        Scope(street="hm")


@pytest.mark.parametrize(
    ("scope", "channel", "expected"),
    [
        (Scope(), Channel.DATA, "sw/v1/+/+/+/data"),
        (Scope(), Channel.STATE, "sw/v1/+/+/+/state"),
        (Scope(), Channel.EVENT, "sw/v1/+/+/+/event"),
        (Scope(), Channel.HEALTH, "sw/v1/+/+/+/health"),
        (Scope(), Channel.CMD, "sw/v1/+/+/+/cmd/+"),
        (Scope("pd"), Channel.DATA, "sw/v1/pd/+/+/data"),
        (Scope("pd"), Channel.EVENT, "sw/v1/pd/+/+/event"),
        (Scope("pd"), Channel.STATE, "sw/v1/pd/+/+/state"),
        (Scope("pd"), Channel.CMD, "sw/v1/pd/+/+/cmd/+"),
        (Scope("pd", "hm"), Channel.STATE, "sw/v1/pd/hm/+/state"),
        (Scope("pd", "hm"), Channel.HEALTH, "sw/v1/pd/hm/+/health"),
        (Scope("pd", "hm"), Channel.CMD, "sw/v1/pd/hm/+/cmd/+"),
    ],
)
@pytest.mark.parametrize("prefix", PREFIXES)
def test_filters(prefix: str, scope: Scope, channel: Channel, expected: str) -> None:
    assert TopicTree(prefix).filter(scope, channel) == _joined(prefix, expected)


def test_filters_for_several_channels() -> None:
    tree = TopicTree()
    assert tree.filters(Scope("pd"), (Channel.DATA, Channel.EVENT)) == [
        "sw/v1/pd/+/+/data",
        "sw/v1/pd/+/+/event",
    ]


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (Scope(), "sw/v1/+/+/incident"),
        (Scope("pd"), "sw/v1/pd/+/incident"),
        (Scope("pd", "hm"), "sw/v1/pd/hm/incident"),
    ],
)
def test_incident_filter(scope: Scope, expected: str) -> None:
    assert TopicTree().incident_filter(scope) == expected


def test_gateway_commands_filter() -> None:
    assert TopicTree().gateway_commands("pd", "hm", "gw-1") == "sw/v1/pd/hm/gw-1/cmd/+"
    assert TopicTree("t-9").gateway_commands("pd", "hm", "gw-1") == "t-9/sw/v1/pd/hm/gw-1/cmd/+"


def test_filter_refuses_a_bad_gateway() -> None:
    with pytest.raises(TopicError, match="gateway"):
        TopicTree().filter(Scope("pd", "hm"), Channel.CMD, "gw/1")


# Gateways in two districts; each scope below must see exactly the ones it names.
_GATEWAYS = [("pd", "hm", "gw-1"), ("pd", "hm", "gw-2"), ("pd", "lj", "gw-3"), ("mh", "hm", "gw-4")]


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("scope", [Scope(), Scope("pd"), Scope("pd", "hm"), Scope("mh")], ids=str)
@pytest.mark.parametrize("channel", list(Channel))
def test_filters_match_exactly_the_topics_in_scope(
    prefix: str, scope: Scope, channel: Channel
) -> None:
    tree = TopicTree(prefix)
    sub = tree.filter(scope, channel)
    command = "ping" if channel is Channel.CMD else None
    seen = set()
    for district, street, gateway in _GATEWAYS:
        in_scope = scope.district in (None, district) and scope.street in (None, street)
        for other in Channel:
            other_command = "ping" if other is Channel.CMD else None
            topic = tree.gateway(district, street, gateway, other, other_command)
            matches = topic_matches_sub(sub, topic)
            assert matches == (in_scope and other is channel), (sub, topic)
            if matches:
                seen.add(gateway)
        assert not topic_matches_sub(sub, tree.incident(district, street))
        # The same topic under another prefix (another test, another deployment) is not seen.
        stranger = TopicTree("t-stranger").gateway(district, street, gateway, channel, command)
        assert not topic_matches_sub(sub, stranger)
    expected = {
        g for d, s, g in _GATEWAYS if scope.district in (None, d) and scope.street in (None, s)
    }
    assert seen == expected


@pytest.mark.parametrize("scope", [Scope(), Scope("pd"), Scope("pd", "hm"), Scope("mh")], ids=str)
def test_incident_filter_matches_incident_topics_in_scope(scope: Scope) -> None:
    tree = TopicTree("t-1234abcd")
    sub = tree.incident_filter(scope)
    for district, street, gateway in _GATEWAYS:
        in_scope = scope.district in (None, district) and scope.street in (None, street)
        assert topic_matches_sub(sub, tree.incident(district, street)) == in_scope
        assert not topic_matches_sub(sub, tree.gateway(district, street, gateway, Channel.DATA))


def test_gateway_commands_filter_sees_only_its_own_commands() -> None:
    tree = TopicTree("city/shanghai")
    sub = tree.gateway_commands("pd", "hm", "gw-1")
    assert topic_matches_sub(sub, tree.gateway("pd", "hm", "gw-1", Channel.CMD, "confirm"))
    assert topic_matches_sub(sub, tree.gateway("pd", "hm", "gw-1", Channel.CMD, "alert_mode"))
    assert not topic_matches_sub(sub, tree.gateway("pd", "hm", "gw-2", Channel.CMD, "confirm"))
    assert not topic_matches_sub(sub, tree.gateway("mh", "hm", "gw-1", Channel.CMD, "confirm"))
    assert not topic_matches_sub(sub, tree.gateway("pd", "hm", "gw-1", Channel.DATA))


# ---------------------------------------------------------------------------------------------
# Device ecosystems.

Z2M = Ecosystem.ZIGBEE2MQTT
CS = Ecosystem.CHIRPSTACK
TAS = Ecosystem.TASMOTA


@pytest.mark.parametrize(
    ("ecosystem", "topic", "device"),
    [
        (Z2M, "zigbee2mqtt/kitchen_smoke", DeviceTopic(Z2M, "kitchen_smoke")),
        (Z2M, "zigbee2mqtt/b12/kitchen/smoke", DeviceTopic(Z2M, "b12/kitchen/smoke")),
        (
            Z2M,
            "zigbee2mqtt/kitchen_smoke/availability",
            DeviceTopic(Z2M, "kitchen_smoke", Subject.AVAILABILITY),
        ),
        (
            Z2M,
            "zigbee2mqtt/b12/kitchen/smoke/availability",
            DeviceTopic(Z2M, "b12/kitchen/smoke", Subject.AVAILABILITY),
        ),
        (Z2M, "zigbee2mqtt/0x00158d0001a2b3c4", DeviceTopic(Z2M, "0x00158d0001a2b3c4")),
        (
            CS,
            "application/app-1/device/0102030405060708/event/up",
            DeviceTopic(CS, "app-1:0102030405060708", Subject.STATE),
        ),
        (
            CS,
            "application/app-1/device/0102030405060708/event/status",
            DeviceTopic(CS, "app-1:0102030405060708", Subject.STATUS),
        ),
        (TAS, "tele/hydrant_7/SENSOR", DeviceTopic(TAS, "hydrant_7", Subject.STATE)),
        (TAS, "tele/hydrant_7/LWT", DeviceTopic(TAS, "hydrant_7", Subject.AVAILABILITY)),
        (Ecosystem.JSON, "site/b12/water", DeviceTopic(Ecosystem.JSON, "site/b12/water")),
    ],
)
def test_device_topic_round_trip(ecosystem: Ecosystem, topic: str, device: DeviceTopic) -> None:
    assert parse_device_topic(ecosystem, topic) == device
    assert device.build() == topic


def test_chirpstack_dev_eui_is_lowercased() -> None:
    device = parse_device_topic(CS, "application/7/device/A1B2C3D4E5F60708/event/up")
    assert device.device == "7:a1b2c3d4e5f60708"
    assert device.build() == "application/7/device/a1b2c3d4e5f60708/event/up"


@pytest.mark.parametrize(
    ("ecosystem", "base", "topic", "device"),
    [
        (Z2M, "z2m-b12", "z2m-b12/smoke_1", DeviceTopic(Z2M, "smoke_1")),
        (CS, "lora/application", "lora/application/1/device/aa/event/up", DeviceTopic(CS, "1:aa")),
        (
            TAS,
            "tasmota/tele",
            "tasmota/tele/pump/LWT",
            DeviceTopic(TAS, "pump", Subject.AVAILABILITY),
        ),
    ],
)
def test_device_topic_with_a_custom_base(
    ecosystem: Ecosystem, base: str, topic: str, device: DeviceTopic
) -> None:
    assert parse_device_topic(ecosystem, topic, base) == device
    assert device.build(base) == topic


@pytest.mark.parametrize(
    ("ecosystem", "topic"),
    [
        (Z2M, "zigbee2mqtt/bridge/state"),
        (Z2M, "zigbee2mqtt/bridge/devices"),
        (Z2M, "zigbee2mqtt/bridge/event"),
        (Z2M, "zigbee2mqtt/kitchen_smoke/set"),
        (Z2M, "zigbee2mqtt/kitchen_smoke/get"),
        (Z2M, "zigbee2mqtt/"),
        (Z2M, "zigbee2mqtt"),
        (Z2M, "other/kitchen_smoke"),
        (CS, "application/1/device/0102030405060708/event/join"),
        (CS, "application/1/device/0102030405060708/event/ack"),
        (CS, "application/1/device/0102030405060708/event/txack"),
        (CS, "application/1/device/0102030405060708/command/down"),
        (CS, "application/1/device/0102030405060708/event/up/extra"),
        (CS, "application/1/gateway/0102030405060708/event/up"),
        (CS, "gateway/0102030405060708/event/up"),
        (TAS, "tele/hydrant_7/STATE"),
        (TAS, "tele/hydrant_7/RESULT"),
        (TAS, "tele/hydrant_7"),
        (TAS, "tele/a/b/SENSOR"),
        (TAS, "stat/hydrant_7/SENSOR"),
        (TAS, "cmnd/hydrant_7/POWER"),
    ],
)
def test_device_topics_without_device_data_are_refused(ecosystem: Ecosystem, topic: str) -> None:
    with pytest.raises(TopicError):
        parse_device_topic(ecosystem, topic)


@pytest.mark.parametrize(
    ("ecosystem", "base", "expected"),
    [
        (Z2M, None, "zigbee2mqtt/#"),
        (CS, None, "application/+/device/+/event/+"),
        (TAS, None, "tele/+/+"),
        (Z2M, "z2m-b12", "z2m-b12/#"),
        (TAS, "tasmota/tele", "tasmota/tele/+/+"),
    ],
)
def test_device_filter(ecosystem: Ecosystem, base: str | None, expected: str) -> None:
    assert device_filter(ecosystem, base) == expected


def test_device_filter_refuses_plain_json() -> None:
    with pytest.raises(TopicError, match="exact topic"):
        device_filter(Ecosystem.JSON)


@pytest.mark.parametrize(
    "device",
    [
        DeviceTopic(Z2M, "b12/kitchen/smoke"),
        DeviceTopic(Z2M, "smoke", Subject.AVAILABILITY),
        DeviceTopic(CS, "app:0102030405060708", Subject.STATE),
        DeviceTopic(CS, "app:0102030405060708", Subject.STATUS),
        DeviceTopic(TAS, "pump", Subject.STATE),
        DeviceTopic(TAS, "pump", Subject.AVAILABILITY),
    ],
    ids=str,
)
def test_device_filter_matches_built_device_topics(device: DeviceTopic) -> None:
    assert topic_matches_sub(device_filter(device.ecosystem), device.build())
