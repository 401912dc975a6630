"""After an outage the backlog replays at ``replay_rate``; a live alarm does not wait for it.

The outbox already holds an hour of telemetry from before the link came back (a previous boot's,
as after a power cut). The agent runs on a manual clock and ``replay_rate`` is 1 message/s, so
after the first replayed send of 50 the history pauses for 50 s that never pass unless the test
moves the clock: an alarm raised during that pause must reach the hub all the same. A send of
large records (alert mode: every sample) stops at ``OTHER_BATCH_BYTES``, so an alarm never has
more than that much history ahead of it.
"""

from __future__ import annotations

import time
from pathlib import Path

import aiomqtt
import pytest
from support.fleet import VirtualGateway
from support.hub_peer import HubPeer
from support.services import MosquittoService
from support.waiting import eventually

from edge.agent import EdgeAgent
from edge.config import GatewayConfig
from edge.outbox import Lane, NewRecord, SqliteOutbox
from edge.uplink import OTHER_BATCH_BYTES
from integration.edge.test_uplink_outage import Devices, gateway_config
from streetwatch.clock import ManualClock, now_ms
from streetwatch.codec import encode
from streetwatch.location import Area
from streetwatch.messages import EventState
from streetwatch.topics import Channel

HISTORY = 120  # telemetry batches waiting in the outbox
BATCH = 50  # the uplink's batch of telemetry (edge.uplink.OTHER_BATCH)


async def fill_outbox(
    path: Path, clock: ManualClock, *, count: int = HISTORY, sensors: int = 3
) -> list[NewRecord]:
    before = VirtualGateway("gw-a", Area(district="pd", street="hm", community="ly"), sensors)
    start = now_ms(clock) - 3_600_000
    records = []
    for i in range(count):
        batch = before.telemetry(start + i * 30_000)
        payload = encode(batch)
        records.append(
            NewRecord(Lane.TELEMETRY, Channel.DATA, batch.boot, batch.seq, payload, batch.sent)
        )
    async with SqliteOutbox(path, quota_bytes=64 * 1024 * 1024) as box:
        await box.add_many(records)
    return records


def replay_config(mosquitto: MosquittoService, topic_prefix: str, tmp_path: Path) -> GatewayConfig:
    config = gateway_config(mosquitto, mosquitto, topic_prefix, tmp_path)
    return config.model_copy(
        update={"uplink": config.uplink.model_copy(update={"replay_rate": 1.0})}
    )


@pytest.mark.integration
@pytest.mark.timeout(60)
async def test_a_live_alarm_overtakes_the_paused_replay(
    mosquitto: MosquittoService, topic_prefix: str, tmp_path: Path
) -> None:
    config = replay_config(mosquitto, topic_prefix, tmp_path)
    clock = ManualClock(start=time.time())
    await fill_outbox(config.buffer.path, clock)
    hub = HubPeer(mosquitto.host, mosquitto.port, topic_prefix, client_id=f"hub-{topic_prefix}")
    async with (
        aiomqtt.Client(mosquitto.host, mosquitto.port) as devices_client,
        hub,
        EdgeAgent(config, base_dir=tmp_path, clock=clock) as agent,
    ):
        await hub.wait_for(lambda h: len(h.batches()) >= BATCH)
        await eventually(lambda: agent.local.connected, what="local broker subscription")
        assert len(hub.batches()) == BATCH, "the replay pauses after its first batch"

        await Devices(devices_client, topic_prefix).smoke(True)
        await hub.wait_for(
            lambda h: any(e.state is EventState.RAISED for e in h.events()), within_s=10
        )
        assert len(hub.batches()) == BATCH, "history still waits for its pause"

        await clock.advance(BATCH / config.uplink.replay_rate)  # the pause is over
        await hub.wait_for(lambda h: len(h.batches()) >= 2 * BATCH)


@pytest.mark.integration
@pytest.mark.timeout(60)
async def test_a_send_of_large_records_stops_at_the_byte_budget(
    mosquitto: MosquittoService, topic_prefix: str, tmp_path: Path
) -> None:
    config = replay_config(mosquitto, topic_prefix, tmp_path)
    clock = ManualClock(start=time.time())
    records = await fill_outbox(config.buffer.path, clock, count=30, sensors=400)
    sizes = [len(r.payload) for r in records]
    first_send = max(k for k in range(1, len(sizes) + 1) if sum(sizes[:k]) <= OTHER_BATCH_BYTES)
    assert 1 < first_send < 10, f"records of {sizes[0]} bytes: the test needs large ones"
    hub = HubPeer(mosquitto.host, mosquitto.port, topic_prefix, client_id=f"hub-{topic_prefix}")
    async with (
        aiomqtt.Client(mosquitto.host, mosquitto.port) as devices_client,
        hub,
        EdgeAgent(config, base_dir=tmp_path, clock=clock) as agent,
    ):
        await hub.wait_for(lambda h: len(h.batches()) >= first_send)
        await eventually(lambda: agent.local.connected, what="local broker subscription")
        # The alarm goes out after the first send has been acknowledged, on the same connection:
        # once the hub has it, it has all of that send.
        await Devices(devices_client, topic_prefix).smoke(True)
        await hub.wait_for(
            lambda h: any(e.state is EventState.RAISED for e in h.events()), within_s=10
        )
        assert len(hub.batches()) == first_send, "one send of at most OTHER_BATCH_BYTES"

        await clock.advance(first_send / config.uplink.replay_rate)  # the pause is over
        await hub.wait_for(lambda h: len(h.batches()) >= 2 * first_send)
