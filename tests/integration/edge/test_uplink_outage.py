"""End to end: an uplink outage of several (virtual) minutes with alarms raised during it.

Real Mosquitto for the local broker (session fixture) and for the uplink (its own instance, so
the test can stop and restart it); the agent runs on a 60× clock, so five minutes of outage take
five seconds. The hub's side is ``HubPeer``: a real MQTT client that confirms what it received.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import aiomqtt
import orjson
import pytest
from support.hub_peer import HubPeer, seqs_by_channel
from support.services import MosquittoService, start_mosquitto
from support.waiting import eventually

from edge.agent import EdgeAgent
from edge.config import GatewayConfig
from edge.outbox import Lane
from streetwatch.clock import ScaledClock
from streetwatch.messages import EventState
from streetwatch.topics import Channel

SPEED = 60.0


def gateway_config(
    local: MosquittoService, uplink: MosquittoService, prefix: str, tmp: Path
) -> GatewayConfig:
    data: dict[str, Any] = {
        "gateway": {"id": "gw-a", "area": {"district": "pd", "street": "hm", "community": "ly"}},
        "local_broker": {"host": local.host, "port": local.port},
        "uplink": {
            "host": uplink.host,
            "port": uplink.port,
            "topic_prefix": prefix,
            "reconnect_min_s": 1,
            "reconnect_max_s": 10,
            "resend_after_s": 30,
            "replay_rate": 2000,
        },
        "buffer": {"path": str(tmp / "outbox.sqlite3")},
        "reporting": {"window_s": 60, "batch_wait_s": 1},
        "local_action": {"siren_topic": f"{prefix}/siren", "min_level": "orange"},
        "health": {"interval_s": 60, "control_socket": str(tmp / "gw.sock")},
        "sensors": [
            {
                "id": "smoke-1",
                "kind": "smoke",
                "source": {
                    "ecosystem": "zigbee2mqtt",
                    "device": "b3/smoke-1",
                    "base_topic": f"{prefix}/zigbee2mqtt",
                },
                "placement": {"building": "b3", "floor": 2, "risk_point": "kitchen"},
            },
            {
                "id": "water-1",
                "kind": "water_level",
                "source": {
                    "ecosystem": "chirpstack",
                    "device": "7:a84041000181c9e1",
                    "base_topic": f"{prefix}/application",
                },
                "placement": {"risk_point": "underpass"},
                "report_interval_s": 60,
            },
        ],
    }
    return GatewayConfig(**data)


class Devices:
    """Publishes device payloads on the local broker the way the real ecosystems do."""

    def __init__(self, client: aiomqtt.Client, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self.fcnt = 0

    async def smoke(self, alarm: bool) -> None:
        payload = {
            "smoke": alarm,
            "battery": 90,
            "battery_low": False,
            "tamper": False,
            "linkquality": 120,
        }
        await self.client.publish(
            f"{self.prefix}/zigbee2mqtt/b3/smoke-1", orjson.dumps(payload), qos=1
        )

    async def water(self, depth_cm: float) -> None:
        self.fcnt += 1
        payload = {
            "deviceInfo": {"applicationId": "7", "devEui": "a84041000181c9e1", "deviceName": "w1"},
            "fCnt": self.fcnt,
            "fPort": 2,
            "data": "AQI=",
            "object": {"depth": depth_cm},
        }
        topic = f"{self.prefix}/application/7/device/a84041000181c9e1/event/up"
        await self.client.publish(topic, orjson.dumps(payload), qos=1)


@pytest.mark.timeout(90)
async def test_outage_loses_nothing_and_warns_locally(
    mosquitto: MosquittoService, topic_prefix: str, tmp_path: Path
) -> None:
    uplink = start_mosquitto(tmp_path / "uplink-broker")
    try:
        await _scenario(mosquitto, uplink, topic_prefix, tmp_path)
    finally:
        uplink.stop()


async def _scenario(
    local: MosquittoService, uplink: MosquittoService, prefix: str, tmp: Path
) -> None:
    config = gateway_config(local, uplink, prefix, tmp)
    clock = ScaledClock(start=time.time(), speed=SPEED)
    sirens: list[dict[str, Any]] = []

    async def listen_siren(client: aiomqtt.Client) -> None:
        async for message in client.messages:
            sirens.append(orjson.loads(bytes(message.payload)))

    hub = HubPeer(uplink.host, uplink.port, prefix, client_id=f"hub-{prefix}")
    async with (
        aiomqtt.Client(local.host, local.port) as devices_client,
        aiomqtt.Client(local.host, local.port) as siren_client,
        hub,
        EdgeAgent(config, base_dir=tmp, clock=clock) as agent,
    ):
        await siren_client.subscribe(f"{prefix}/siren", qos=1)
        siren_task = asyncio.create_task(listen_siren(siren_client))
        devices = Devices(devices_client, prefix)
        boot = agent.sequencer.boot

        # Normal times: the birth arrives, then the first samples.
        await hub.wait_for(lambda h: any(s.online and s.boot == boot for s in h.states()))
        await eventually(lambda: agent.local.connected, what="local broker subscription")
        await devices.smoke(False)
        await devices.water(3.0)
        await hub.wait_for(lambda h: sum(len(b.readings) for b in h.batches()) >= 2)
        assert not sirens, "the siren must stay quiet while the hub is reachable"

        # The uplink goes down (the street's link is cut).
        uplink.stop()
        await eventually(
            lambda: not agent.uplink.connected.is_set(), what="agent to notice the outage"
        )
        outage_started = clock.now()
        for depth in (8, 16, 22, 27, 33, 41, 52, 58, 61, 61, 60):
            await devices.water(depth)
            await asyncio.sleep(0.3)  # 18 virtual seconds between gauge reports
        await devices.smoke(True)
        await devices.smoke(True)
        await eventually(lambda: len(sirens) >= 2, what="the local siren during the outage")
        await eventually(  # hold the outage for five virtual minutes
            lambda: clock.now() - outage_started >= 5 * 60, what="five minutes of outage"
        )
        made = agent.sequencer.peek(Channel.EVENT)
        assert made >= 5, "blue..red on the gauge and the smoke alarm are several events"
        assert (await agent.outbox.stats()).depth[Lane.EVENT] == made

        # The link returns: everything arrives, marked replayed, and the outbox empties.
        outage_ended = clock.now()
        uplink.restart()
        await hub.wait_for(
            lambda h: (
                set(
                    seqs_by_channel(
                        [r for r in h.log if getattr(r.message, "boot", "") == boot]
                    ).get("event", [])
                )
                >= set(range(made))
            ),
            within_s=30,
        )
        await eventually(
            lambda: agent.uplink.was_confirmed(Channel.EVENT, made - 1),
            what="confirmation of the last event",
        )

        async def events_confirmed() -> bool:
            return (await agent.outbox.stats()).depth[Lane.EVENT] == 0

        await eventually(events_confirmed, what="the outbox to drop every confirmed event")
        stats = await agent.outbox.stats()
        total = agent.sequencer.peek(Channel.EVENT)  # more may follow the outage (clears)

        siren_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await siren_task

    events = [e for e in hub.events() if e.boot == boot]
    first_seen: dict[int, Any] = {}
    for e in events:
        first_seen.setdefault(e.seq, e)
    order = list(first_seen)
    assert order == sorted(order), "events arrive in order within their lane"
    assert set(first_seen) == set(range(total)), "every event arrives, none lost"
    for e in events:  # duplicates only as exact re-sends the hub can drop by seq
        assert e.model_copy(update={"replayed": False}) == first_seen[e.seq].model_copy(
            update={"replayed": False}
        )
    window = (outage_started * 1000, outage_ended * 1000)
    during = [e for e in first_seen.values() if window[0] <= e.t < window[1]]
    assert during
    assert all(e.replayed for e in during), "outage events are marked replayed"
    assert len(during) == made, "the events raised during the outage keep their original times"
    water = [e for e in during if e.sensor == "water-1" and e.state is EventState.RAISED]
    assert max(e.level for e in water).value == "red"
    assert any(e.sensor == "smoke-1" and e.type.value == "alarm_flag" for e in during)
    assert sirens
    assert {s["level"] for s in sirens} <= {"orange", "red"}
    assert all(s["text"] for s in sirens)
    assert stats.depth[Lane.EVENT] == 0, "confirmed events leave the outbox"
    assert not hub.rejected
