"""Malformed and hostile messages are counted and dead-lettered; the good ones around them kept."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
from support.fleet import VirtualGateway
from support.services import MosquittoService
from support.waiting import eventually

from hub.events import HubEvent, HubEventType
from streetwatch.codec import MAX_PAYLOAD_BYTES, encode
from streetwatch.location import Area
from streetwatch.topics import Channel

from .conftest import fleet, fleet_of, running_hub
from .stored import stored_readings


async def test_bad_messages_are_refused_and_the_stream_goes_on(
    hub_config: Any, tmp_path: Path, mosquitto: MosquittoService, topic_prefix: str
) -> None:
    config = hub_config()
    good, other = fleet_of(2, topic_prefix)
    liar = VirtualGateway(
        f"{topic_prefix}-liar", Area(district="pudong", street="yangjing", community="juquan")
    )
    stranger = VirtualGateway(
        f"{topic_prefix}-x", Area(district="pudong", street="huamu", community="nowhere")
    )
    now = int(time.time() * 1000)
    async with (
        running_hub(config, tmp_path) as hub,
        fleet(mosquitto, topic_prefix, [good, other, liar, stranger]) as f,
    ):
        async with hub.events.subscribe() as events:
            await f.send(good, good.birth(now))
            await f.send(other, other.birth(now))
            # A birth on a huamu topic that claims to be in yangjing, and one in an unknown place.
            huamu_topic = f.tree.gateway("pudong", "huamu", liar.gateway, Channel.STATE)
            await f.publish_raw(huamu_topic, encode(liar.birth(now)), retain=True)
            await f.send(stranger, stranger.birth(now))
            await eventually(lambda: hub.registry.get(good.gateway) is not None, what="birth")

            data = f.topic(good, Channel.DATA)
            await f.send(good, good.telemetry(now - 3000))
            await f.publish_raw(data, b"{not json")
            await f.send(good, good.telemetry(now - 2000))
            v2 = orjson.loads(encode(good.telemetry(now)))
            good.readings.pop()  # never stored: the batch is refused
            good.readings.pop()
            good.readings.pop()
            v2["v"] = 2
            await f.publish_raw(data, orjson.dumps(v2))
            await f.publish_raw(
                data, b'{"v":1,"msg":"telemetry",' + b" " * MAX_PAYLOAD_BYTES + b"}"
            )
            # "other" speaks for "good" on good's topic: impersonation.
            other_batch = other.telemetry(now)
            other.readings.clear()
            await f.publish_raw(data, encode(other_batch))
            await f.send(good, good.telemetry(now - 1000))
            await f.republish(good, Channel.DATA, 0)  # a replayed sequence number
            await eventually(f.all_confirmed, what="good messages confirmed")
            await eventually(lambda: hub.counters.get("duplicate", "data") == 1, what="the replay")
            await hub.writer.flush()

            refused = [e for e in _drain(events) if isinstance(e, HubEvent)]

        counts = hub.dead_letters.counts()
        letters = await hub.dead_letters.recent(50)

    expected = {
        "not_json": 1,
        "unsupported_version": 1,
        "too_large": 1,
        "impersonation": 1,
        "place_mismatch": 1,
        "unknown_community": 1,
    }
    assert {k: counts.get(k, 0) for k in expected} == expected
    assert {k: hub.counters.get("rejected", k) for k in expected} == expected
    assert {letter.reason for letter in letters} >= set(expected)
    assert [e.gateway for e in refused if e.type is HubEventType.GATEWAY_REFUSED] == [
        liar.gateway,
        stranger.gateway,
    ]
    stored = await stored_readings(config, tmp_path, topic_prefix)
    assert sorted((s.sensor, s.t, s.depth) for s in stored) == sorted(good.expected_readings())


def _drain(queue: Any) -> list[Any]:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items
