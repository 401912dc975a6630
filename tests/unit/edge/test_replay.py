"""Marking a record replayed: the bytes patch for the edge's own telemetry, the models otherwise."""

from __future__ import annotations

import orjson
import pytest

from edge import replay
from edge.replay import mark_replayed
from streetwatch.anomalies import AnomalyType
from streetwatch.codec import decode_channel, encode
from streetwatch.kinds import KindName
from streetwatch.levels import Level
from streetwatch.messages import (
    AnomalyEvent,
    EventState,
    MetricStats,
    Quality,
    Reading,
    TelemetryBatch,
    WindowSummary,
)
from streetwatch.topics import Channel

T0 = 1_795_000_000_000
BOOT = "0123abcd"


def telemetry(n: int = 3, *, summaries: bool = True) -> TelemetryBatch:
    readings = tuple(
        Reading(
            sensor=f"wl-{i}",
            kind=KindName.WATER_LEVEL,
            t=T0 + i,
            values={"depth": 100.5 + i, "water_leak": i % 2 == 0},
            quality=Quality.SUSPECT if i == 1 else Quality.GOOD,
        )
        for i in range(n)
    )
    windows = (
        WindowSummary(
            sensor="wl-9",
            kind=KindName.WATER_LEVEL,
            start=T0 - 60_000,
            end=T0,
            stats={"depth": MetricStats(min=1, max=3, mean=2, last=3, count=60)},
            flags={"water_leak": False},
        ),
    )
    return TelemetryBatch(
        gateway="gw-1",
        boot=BOOT,
        seq=7,
        sent=T0,
        readings=readings,
        summaries=windows if summaries else (),
    )


def by_models(payload: bytes, channel: Channel) -> bytes:
    """What marking through the models gives (the reference)."""
    message = decode_channel(payload, channel)
    assert isinstance(message, TelemetryBatch | AnomalyEvent)
    return encode(message.model_copy(update={"replayed": True}))


@pytest.mark.parametrize(
    "batch",
    [telemetry(), telemetry(1, summaries=False), telemetry(200)],
    ids=["readings-and-summaries", "one-reading", "200-readings"],
)
def test_the_edges_own_telemetry_is_marked_without_the_models(
    batch: TelemetryBatch, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = encode(batch)
    expected = by_models(payload, Channel.DATA)

    def no_models(*args: object) -> None:
        raise AssertionError("decoded with the models")

    monkeypatch.setattr(replay, "decode_channel", no_models)
    marked = mark_replayed(Channel.DATA, payload)
    assert marked == expected
    assert decode_channel(marked, Channel.DATA) == batch.model_copy(update={"replayed": True})


def test_telemetry_already_replayed_is_left_as_it_is() -> None:
    payload = encode(telemetry().model_copy(update={"replayed": True}))
    assert mark_replayed(Channel.DATA, payload) == payload


def test_telemetry_in_another_field_order_goes_through_the_models() -> None:
    as_dict = orjson.loads(encode(telemetry()))
    replayed = as_dict.pop("replayed")
    payload = orjson.dumps({"replayed": replayed, **as_dict})
    marked = mark_replayed(Channel.DATA, payload)
    assert decode_channel(marked, Channel.DATA) == telemetry().model_copy(update={"replayed": True})


def test_an_event_is_marked_through_the_models_whatever_its_detail_says() -> None:
    event = AnomalyEvent(
        id="gw-1:smoke-1:1",
        gateway="gw-1",
        boot=BOOT,
        seq=3,
        sensor="smoke-1",
        kind=KindName.SMOKE,
        type=AnomalyType.THRESHOLD,
        level=Level.RED,
        state=EventState.RAISED,
        t=T0,
        detail='smoke,"replayed":false}',
    )
    marked = mark_replayed(Channel.EVENT, encode(event))
    assert decode_channel(marked, Channel.EVENT) == event.model_copy(update={"replayed": True})


def test_what_no_longer_decodes_is_sent_as_it_was() -> None:
    assert mark_replayed(Channel.DATA, b"not json") == b"not json"
    health = b'{"anything":1}'
    assert mark_replayed(Channel.HEALTH, health) == health
