from __future__ import annotations

import copy
import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from streetwatch.codec import (
    CHANNEL_MESSAGES,
    MAX_PAYLOAD_BYTES,
    DecodeError,
    RejectReason,
    decode,
    decode_channel,
    load_json,
)
from streetwatch.messages import (
    AnomalyEvent,
    Confirm,
    GatewayHealth,
    GatewayState,
    TelemetryBatch,
)
from streetwatch.topics import Channel

T0 = 1_700_000_000_000

READING: dict[str, Any] = {"sensor": "wl-1", "kind": "water_level", "t": T0, "values": {"depth": 3}}
SUMMARY: dict[str, Any] = {
    "sensor": "gas-1",
    "kind": "gas",
    "start": T0 - 60_000,
    "end": T0,
    "stats": {"lel": {"min": 0, "max": 2, "mean": 1, "last": 1, "count": 3}},
}
TELEMETRY: dict[str, Any] = {
    "v": 1,
    "msg": "telemetry",
    "gateway": "gw-1",
    "boot": "0123abcd",
    "seq": 5,
    "sent": T0,
    "readings": [READING],
    "summaries": [SUMMARY],
}
EVENT: dict[str, Any] = {
    "v": 1,
    "msg": "event",
    "id": "e-1",
    "gateway": "gw-1",
    "boot": "0123abcd",
    "seq": 1,
    "sensor": "wl-1",
    "kind": "water_level",
    "type": "threshold",
    "level": "orange",
    "state": "raised",
    "t": T0,
}
CONFIRM: dict[str, Any] = {
    "v": 1,
    "command": "confirm",
    "t": T0,
    "boot": "0123abcd",
    "channel": "data",
    "ranges": [[0, 4]],
}


def _payload(base: dict[str, Any], *edits: tuple[tuple[str | int, ...], Any]) -> bytes:
    """``base`` as JSON, with each (path, value) edit applied; value ``...`` deletes the key."""
    data = copy.deepcopy(base)
    for path, value in edits:
        target: Any = data
        for part in path[:-1]:
            target = target[part]
        if value is ...:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return json.dumps(data, ensure_ascii=False).encode()


def _decode(payload: bytes | str, model: Any) -> Any:
    """Decode as ``model``, or as whatever the channel carries when ``model`` is a Channel."""
    if isinstance(model, Channel):
        return decode_channel(payload, model)
    return decode(payload, model)


def _reason(payload: bytes | str, model: Any) -> RejectReason:
    with pytest.raises(DecodeError) as info:
        _decode(payload, model)
    assert str(info.value).startswith(f"{info.value.reason}: ")
    assert info.value.detail
    return info.value.reason


@pytest.mark.parametrize(
    ("payload", "model"),
    [
        (_payload(TELEMETRY), TelemetryBatch),
        (_payload(EVENT), AnomalyEvent),
        (_payload(CONFIRM), Channel.CMD),
        (_payload(CONFIRM), Confirm),
    ],
)
def test_the_base_payloads_are_valid(payload: bytes, model: Any) -> None:
    # Every rejection below edits one of these; they must decode as they are.
    expected = Confirm if model is Channel.CMD else model
    assert isinstance(_decode(payload, model), expected)


def test_too_large() -> None:
    padding = "x" * MAX_PAYLOAD_BYTES
    payload = _payload(EVENT, (("detail",), padding))
    assert _reason(payload, AnomalyEvent) is RejectReason.TOO_LARGE


def test_the_limit_counts_bytes_of_text_payloads() -> None:
    # 200 Ki Chinese characters are 600 KiB of UTF-8: over the limit whatever the payload type.
    text = json.dumps({"v": 1, "detail": "浦" * (200 * 1024)}, ensure_ascii=False)
    assert len(text) < MAX_PAYLOAD_BYTES < len(text.encode())
    assert _reason(text, AnomalyEvent) is RejectReason.TOO_LARGE
    assert _reason(text.encode(), AnomalyEvent) is RejectReason.TOO_LARGE


def test_text_with_a_lone_surrogate_is_not_json() -> None:
    assert _reason('{"v": 1, "detail": "\ud800"}', AnomalyEvent) is RejectReason.NOT_JSON


def test_limit_is_inclusive() -> None:
    payload = b"[" + b" " * (MAX_PAYLOAD_BYTES - 2) + b"]"
    assert len(payload) == MAX_PAYLOAD_BYTES
    assert load_json(payload) == []
    with pytest.raises(DecodeError) as info:
        load_json(payload + b" ")
    assert info.value.reason is RejectReason.TOO_LARGE


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"{",
        b"not json",
        b"{'v': 1}",
        b'{"v": 1,}',
        b"NaN",
        b'{"v": 1, "x": NaN}',
        b'{"v": 1, "x": Infinity}',
        b'{"v": 1, "x": -Infinity}',
        b'{"v": 1, "x": 1e400}',
        b"\xff\xfe",
        b'{"v": 1}{"v": 1}',
        b'{"v": 1, "s": "\xc3\x28"}',
    ],
)
def test_not_json(payload: bytes) -> None:
    assert _reason(payload, TelemetryBatch) is RejectReason.NOT_JSON


@pytest.mark.parametrize("payload", [b"[]", b"[1, 2]", b'"telemetry"', b"1", b"null", b"true"])
def test_not_an_object(payload: bytes) -> None:
    assert _reason(payload, TelemetryBatch) is RejectReason.NOT_AN_OBJECT
    assert _reason(payload, Channel.CMD) is RejectReason.NOT_AN_OBJECT


@pytest.mark.parametrize("version", [..., 2, 0, True, 1.0, "1", None, [1]])
@pytest.mark.parametrize(
    ("base", "model"),
    [(TELEMETRY, TelemetryBatch), (EVENT, AnomalyEvent), (CONFIRM, Channel.CMD)],
)
def test_unsupported_version(version: Any, base: dict[str, Any], model: Any) -> None:
    assert _reason(_payload(base, (("v",), version)), model) is RejectReason.UNSUPPORTED_VERSION


@pytest.mark.parametrize(
    ("payload", "model"),
    [
        (_payload(EVENT), TelemetryBatch),
        (_payload(TELEMETRY), AnomalyEvent),
        (_payload(TELEMETRY), GatewayState),
        (_payload(TELEMETRY), GatewayHealth),
        (_payload(TELEMETRY, (("msg",), ...)), TelemetryBatch),
        (_payload(TELEMETRY, (("msg",), "Telemetry")), TelemetryBatch),
        (_payload(TELEMETRY, (("msg",), ["telemetry"])), TelemetryBatch),
        (_payload(TELEMETRY, (("msg",), {"telemetry": 1})), TelemetryBatch),
        (_payload(TELEMETRY), Channel.CMD),
        (_payload(CONFIRM, (("command",), "reboot")), Channel.CMD),
        (_payload(CONFIRM, (("command",), ...)), Channel.CMD),
        (_payload(CONFIRM, (("command",), ["confirm"])), Channel.CMD),
    ],
)
def test_wrong_message(payload: bytes, model: Any) -> None:
    assert _reason(payload, model) is RejectReason.WRONG_MESSAGE


@pytest.mark.parametrize(
    ("payload", "model", "where"),
    [
        (_payload(TELEMETRY, (("extra",), 1)), TelemetryBatch, "extra"),
        (_payload(TELEMETRY, (("readings", 0, "unit"), "cm")), TelemetryBatch, "readings.0.unit"),
        (_payload(TELEMETRY, (("readings", 0, "values", "depth"), "3.5")), TelemetryBatch, "depth"),
        (_payload(TELEMETRY, (("seq",), "5")), TelemetryBatch, "seq"),
        (_payload(TELEMETRY, (("seq",), True)), TelemetryBatch, "seq"),
        (_payload(TELEMETRY, (("seq",), 5.0)), TelemetryBatch, "seq"),
        (_payload(TELEMETRY, (("seq",), -1)), TelemetryBatch, "seq"),
        (_payload(TELEMETRY, (("seq",), 2**63)), TelemetryBatch, "seq"),
        (_payload(TELEMETRY, (("sent",), -5)), TelemetryBatch, "sent"),
        (_payload(TELEMETRY, (("readings", 0, "t"), True)), TelemetryBatch, "readings.0.t"),
        (_payload(TELEMETRY, (("readings", 0, "kind"), "thermometer")), TelemetryBatch, "kind"),
        (_payload(TELEMETRY, (("readings", 0, "kind"), "SMOKE")), TelemetryBatch, "kind"),
        (_payload(TELEMETRY, (("readings", 0, "values"), {"Depth": 3})), TelemetryBatch, "Depth"),
        (_payload(TELEMETRY, (("readings", 0, "values"), {"wa ter": 3})), TelemetryBatch, "values"),
        (_payload(TELEMETRY, (("readings", 0, "values"), {})), TelemetryBatch, "values"),
        (_payload(TELEMETRY, (("readings", 0, "values", "depth"), None)), TelemetryBatch, "depth"),
        (_payload(TELEMETRY, (("readings", 0, "sensor"), "WL/1")), TelemetryBatch, "sensor"),
        (_payload(TELEMETRY, (("readings",), []), (("summaries",), [])), TelemetryBatch, "message"),
        (
            _payload(TELEMETRY, (("readings",), ...), (("summaries",), ...)),
            TelemetryBatch,
            "message",
        ),
        (_payload(TELEMETRY, (("replayed",), 1)), TelemetryBatch, "replayed"),
        (_payload(TELEMETRY, (("gateway",), ...)), TelemetryBatch, "gateway"),
        (_payload(TELEMETRY, (("summaries", 0, "stats", "lel", "min"), 5)), TelemetryBatch, "min"),
        (_payload(TELEMETRY, (("summaries", 0, "start"), T0 + 1)), TelemetryBatch, "end before"),
        (_payload(TELEMETRY, (("summaries", 0, "stats"), {})), TelemetryBatch, "statistics or"),
        (_payload(EVENT, (("type",), "test")), AnomalyEvent, "test=true"),
        (_payload(EVENT, (("test",), "true")), AnomalyEvent, "test"),
        (_payload(EVENT, (("level",), "RED")), AnomalyEvent, "level"),
        (_payload(EVENT, (("value",), "31")), AnomalyEvent, "value"),
        (_payload(CONFIRM, (("ranges",), [[5, 3]])), Channel.CMD, "first <= last"),
        (_payload(CONFIRM, (("ranges",), [[0, 1], [5, 3]])), Channel.CMD, "first <= last"),
        (_payload(CONFIRM, (("ranges",), [])), Channel.CMD, "ranges"),
        (_payload(CONFIRM, (("ranges",), [[1, 2, 3]])), Channel.CMD, "ranges"),
        (_payload(CONFIRM, (("ranges",), [[-1, 2]])), Channel.CMD, "ranges"),
        (_payload(CONFIRM, (("channel",), "cmd")), Channel.CMD, "channel"),
        (_payload(CONFIRM, (("t",), ...)), Channel.CMD, "t"),
        (_payload(CONFIRM, (("on",), True)), Channel.CMD, "on"),
    ],
)
def test_schema(payload: bytes, model: Any, where: str) -> None:
    with pytest.raises(DecodeError) as info:
        _decode(payload, model)
    assert info.value.reason is RejectReason.SCHEMA
    assert where in info.value.detail


def test_schema_detail_is_short_and_counts_the_rest() -> None:
    payload = _payload(
        TELEMETRY,
        (("seq",), -1),
        (("sent",), -1),
        (("gateway",), "GW"),
        (("boot",), "x"),
        (("extra",), 1),
    )
    with pytest.raises(DecodeError) as info:
        decode(payload, TelemetryBatch)
    assert info.value.reason is RejectReason.SCHEMA
    assert "and 2 more" in info.value.detail


@pytest.mark.parametrize("channel", list(Channel))
def test_every_channel_has_a_message(channel: Channel) -> None:
    assert channel in CHANNEL_MESSAGES


def test_text_and_memoryview_payloads_decode() -> None:
    text = _payload(EVENT).decode()
    assert decode(text, AnomalyEvent).id == "e-1"
    assert decode(memoryview(_payload(EVENT)), AnomalyEvent).id == "e-1"
    assert decode(bytearray(_payload(EVENT)), AnomalyEvent).id == "e-1"


# ---------------------------------------------------------------------------------------------
# Property: nothing a network peer sends makes decoding raise anything but DecodeError.

_MODELS: list[Any] = [TelemetryBatch, AnomalyEvent, GatewayState, GatewayHealth, Confirm]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=30,
)
_TAGS = ["telemetry", "event", "state", "health", *["confirm", "resend", "ping", "alert_mode"]]
# Objects that pass the version and tag checks often, so that validation itself is exercised.
near_messages = st.fixed_dictionaries(
    {"v": st.just(1) | json_values},
    optional={
        "msg": st.sampled_from(_TAGS) | json_values,
        "command": st.sampled_from(_TAGS) | json_values,
        "seq": json_values,
        "t": json_values,
        "ranges": json_values,
        "readings": json_values,
        "values": json_values,
        "gateway": st.just("gw-1") | json_values,
        "boot": st.just("0123abcd") | json_values,
    },
).flatmap(
    lambda d: st.dictionaries(st.text(max_size=8), json_values, max_size=3).map(
        lambda extra: {**extra, **d}
    )
)


def _outcome(payload: bytes | str, model: Any) -> BaseModel | RejectReason:
    """The decoded message or the reason for rejection; any other exception propagates."""
    try:
        message: BaseModel = _decode(payload, model)
    except DecodeError as exc:
        return exc.reason
    return message


def _decode_everywhere(payload: bytes | str) -> None:
    for model in [*_MODELS, *Channel]:
        outcome = _outcome(payload, model)
        assert isinstance(outcome, BaseModel | RejectReason), outcome


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(st.characters(exclude_categories=()), max_size=100))
def test_arbitrary_bytes_decode_or_raise_decode_error(payload: bytes | str) -> None:
    _decode_everywhere(payload)


@settings(max_examples=300, deadline=None)
@given(json_values | near_messages)
def test_arbitrary_json_decodes_or_raises_decode_error(value: Any) -> None:
    _decode_everywhere(json.dumps(value).encode())
    _decode_everywhere(json.dumps(value, ensure_ascii=False))


def test_orjson_and_json_agree_on_the_fixture() -> None:
    # The property tests write JSON with the standard library and read it with orjson.
    assert orjson.loads(_payload(TELEMETRY)) == TELEMETRY
