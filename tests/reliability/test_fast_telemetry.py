"""The hub's fast telemetry decoder accepts nothing the shared models refuse, and reads the same.

``streetwatch.fast_telemetry.decode_readings`` may decline anything (the models then decide), but
whatever it accepts, ``decode_channel(payload, Channel.DATA)`` must accept too, with the same
gateway, boot, sequence, times, sensors, kinds, qualities and values (each value of the same type
and the same ``repr``: ``-0.0`` is not ``0.0`` to a database). Checked over valid batches, over
the bad-input suite's mutations of them, and over hand-picked edges.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reliability.strategies import bad_input, mutations_of
from streetwatch.codec import MAX_PAYLOAD_BYTES, DecodeError, decode_channel
from streetwatch.fast_telemetry import FastBatch, decode_readings
from streetwatch.kinds import KINDS, KindName
from streetwatch.messages import MAX_BATCH_ITEMS, Quality, TelemetryBatch
from streetwatch.topics import Channel

SLUGS = st.from_regex(r"[a-z0-9](?:[a-z0-9_-]{0,10}[a-z0-9])?", fullmatch=True)
NUMBERS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.booleans(),
)


@st.composite
def readings(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(list(KindName)))
    metrics = KINDS[kind].metric_names
    names = draw(st.lists(st.sampled_from(metrics), min_size=1, max_size=len(metrics), unique=True))
    reading: dict[str, Any] = {
        "sensor": draw(SLUGS),
        "kind": kind.value,
        "t": draw(st.integers(min_value=0, max_value=2**53 - 1)),
        "values": {name: draw(NUMBERS) for name in names},
    }
    if draw(st.booleans()):
        reading["quality"] = draw(st.sampled_from(list(Quality))).value
    return reading


@st.composite
def batches(draw: st.DrawFn) -> bytes:
    batch: dict[str, Any] = {
        "v": 1,
        "msg": "telemetry",
        "gateway": draw(SLUGS),
        "boot": draw(st.from_regex(r"[0-9a-f]{8,32}", fullmatch=True)),
        "seq": draw(st.integers(min_value=0, max_value=2**63 - 1)),
        "sent": draw(st.integers(min_value=0, max_value=2**53 - 1)),
        "readings": draw(st.lists(readings(), min_size=1, max_size=6)),
    }
    if draw(st.booleans()):
        batch["replayed"] = draw(st.booleans())
    return orjson.dumps(batch)


def _typed(values: Any) -> dict[str, tuple[type, str]]:
    return {name: (type(v), repr(v)) for name, v in values.items()}


def agree(payload: bytes) -> FastBatch | None:
    """The fast decoder's answer, after checking the models agree with it."""
    fast = decode_readings(payload)
    if fast is None:
        return None
    model = decode_channel(payload, Channel.DATA)  # raises if the models refuse it
    assert isinstance(model, TelemetryBatch)
    head = ("gateway", "boot", "seq", "sent", "replayed")
    assert [getattr(fast, f) for f in head] == [getattr(model, f) for f in head]
    assert model.summaries == ()
    assert len(fast.readings) == len(model.readings)
    for f, m in zip(fast.readings, model.readings, strict=True):
        assert (f.sensor, f.kind, f.t, f.quality) == (m.sensor, m.kind, m.t, m.quality)
        assert type(f.kind) is type(m.kind)
        assert type(f.quality) is type(m.quality)
        assert _typed(f.values) == _typed(m.values)
    return fast


@bad_input(300)
@given(batches())
def test_every_valid_batch_of_readings_takes_the_fast_path_and_reads_the_same(
    payload: bytes,
) -> None:
    assert agree(payload) is not None


@bad_input(500)
@given(batches().flatmap(mutations_of))
def test_a_mutated_batch_is_accepted_only_as_the_models_accept_it(payload: bytes) -> None:
    agree(payload)


def _batch(**changes: Any) -> dict[str, Any]:
    reading = {"sensor": "wl-1", "kind": "water_level", "t": 5, "values": {"depth": 150.5}}
    batch: dict[str, Any] = {
        "v": 1,
        "msg": "telemetry",
        "gateway": "gw-1",
        "boot": "0123abcd",
        "seq": 7,
        "sent": 9,
        "readings": [reading],
    }
    for key, value in changes.items():
        if key.startswith("r_"):
            reading[key[2:]] = value
        else:
            batch[key] = value
    return batch


@pytest.mark.parametrize(
    "payload",
    [
        orjson.dumps(_batch(r_values={"depth": 150})),  # an int for a number: 150.0
        orjson.dumps(_batch(r_values={"depth": True})),  # a flag for a number: stored as 1.0
        orjson.dumps(_batch(r_values={"depth": -0.0})),
        orjson.dumps(_batch(r_quality="fault", replayed=True)),
        orjson.dumps(_batch(seq=2**63 - 1, sent=2**53 - 1, r_t=2**53 - 1)),
        orjson.dumps(_batch(r_kind="hydrant", r_values={"pressure": 0.3, "cover_open": False})),
        # Duplicate keys: both decoders keep the last.
        b'{"v":1,"msg":"telemetry","gateway":"gw-1","boot":"0123abcd","seq":1,"seq":2,"sent":9,'
        b'"readings":[{"sensor":"wl-1","kind":"water_level","t":5,'
        b'"values":{"depth":1.5,"depth":2.5}}]}',
    ],
)
def test_edges_the_models_accept_read_the_same(payload: bytes) -> None:
    assert agree(payload) is not None


@pytest.mark.parametrize(
    "payload",
    [
        orjson.dumps(_batch(v=1.0)),
        orjson.dumps(_batch(v=True)),
        orjson.dumps(_batch(msg="event")),
        orjson.dumps(_batch(seq=2**63)),
        orjson.dumps(_batch(sent=2**53)),
        orjson.dumps(_batch(seq="7")),
        orjson.dumps(_batch(gateway="GW-1")),
        orjson.dumps(_batch(boot="0123ABCD")),
        orjson.dumps(_batch(readings=[])),
        orjson.dumps(_batch(extra=1)),
        orjson.dumps(_batch(r_sensor="wl 1")),
        orjson.dumps(_batch(r_sensor="-wl")),
        orjson.dumps(_batch(r_kind="lava")),
        orjson.dumps(_batch(r_values={})),
        orjson.dumps(_batch(r_values={"smoke": True})),  # not a metric of water_level
        orjson.dumps(_batch(r_values={"depth": "150"})),
        orjson.dumps(_batch(r_values={"depth": None})),
        orjson.dumps(_batch(r_values={f"m{i}": 1.0 for i in range(33)})),
        orjson.dumps(_batch(r_quality="bad")),
        orjson.dumps(_batch(r_t=-1)),
        orjson.dumps(_batch(r_unknown=1)),
        orjson.dumps(_batch(readings=[_batch()["readings"][0]] * (MAX_BATCH_ITEMS + 1))),
        orjson.dumps(_batch()).replace(b"150.5", b"1e999"),
        orjson.dumps(_batch()).replace(b"150.5", b"NaN"),
        orjson.dumps(_batch()).replace(b"wl-1", b"wl-\xff"),
        orjson.dumps(_batch())[:-1],
    ],
)
def test_what_the_models_refuse_the_fast_path_declines(payload: bytes) -> None:
    assert decode_readings(payload) is None
    with pytest.raises(DecodeError):
        decode_channel(payload, Channel.DATA)


def test_summaries_and_oversize_payloads_are_left_to_the_models() -> None:
    summary = {"sensor": "wl-1", "kind": "water_level", "start": 1, "end": 2, "flags": {}}
    summary["stats"] = {"depth": {"min": 1.0, "max": 2.0, "mean": 1.5, "last": 2.0, "count": 2}}
    with_summary = orjson.dumps(_batch(summaries=[summary]))
    assert decode_readings(with_summary) is None
    assert isinstance(decode_channel(with_summary, Channel.DATA), TelemetryBatch)
    padded = orjson.dumps(_batch(r_sensor="wl-1")) + b" " * MAX_PAYLOAD_BYTES
    assert decode_readings(padded) is None
    with pytest.raises(DecodeError, match="too_large"):
        decode_channel(padded, Channel.DATA)
