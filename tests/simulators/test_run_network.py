"""UplinkRelay against a real Mosquitto: traffic passes, a cut drops it like a cut fibre.

The gateway reaches the broker only through the relay; the hub side subscribes on the broker
directly, so it sees what the broker does when the relay is cut (publish the gateway's will).
Each test has its own private broker, as a simulation run has.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import aiomqtt
import pytest

from simulators.run.brokers import Broker
from simulators.run.network import UplinkRelay
from streetwatch.topics import Channel, TopicTree

pytestmark = pytest.mark.integration

WAIT = 10.0  # seconds any single expected MQTT delivery may take


@pytest.fixture
async def hub_broker(tmp_path: Path) -> AsyncIterator[Broker]:
    """The hub broker a gateway reaches through its uplink relay."""
    async with Broker(tmp_path / "hub-broker", name="hub") as broker:
        yield broker


def gateway_topic(topic_prefix: str, channel: Channel) -> str:
    return TopicTree(topic_prefix).gateway("d1", "s1", "gw-a", channel)


async def next_message(client: aiomqtt.Client) -> aiomqtt.Message:
    async with asyncio.timeout(WAIT):
        return await anext(aiter(client.messages))


async def sees_the_drop(gateway: aiomqtt.Client) -> None:
    with pytest.raises(aiomqtt.MqttError, match="Disconnected"):
        await next_message(gateway)


async def test_publishes_pass_through_the_relay(hub_broker: Broker, topic_prefix: str) -> None:
    data = gateway_topic(topic_prefix, Channel.DATA)
    async with (
        UplinkRelay(hub_broker.host, hub_broker.port, name="gw-a") as relay,
        aiomqtt.Client(hub_broker.host, hub_broker.port, identifier=f"{topic_prefix}-hub") as hub,
    ):
        await hub.subscribe(data, qos=1)
        async with aiomqtt.Client("127.0.0.1", relay.port, identifier=f"{topic_prefix}-gw") as gw:
            await gw.publish(data, b"reading", qos=1)
        message = await next_message(hub)
        assert message.payload == b"reading"
        assert (relay.connections, relay.refused) == (1, 0)
        assert relay.bytes_up > len(b"reading")
        assert relay.bytes_down > 0  # CONNACK, PUBACK


async def test_cut_drops_the_gateway_and_restore_lets_it_back(
    hub_broker: Broker, topic_prefix: str
) -> None:
    state = gateway_topic(topic_prefix, Channel.STATE)
    data = gateway_topic(topic_prefix, Channel.DATA)
    will = aiomqtt.Will(state, b"offline", qos=1)
    gw_id = f"{topic_prefix}-gw"
    async with (
        UplinkRelay(hub_broker.host, hub_broker.port, name="gw-a") as relay,
        aiomqtt.Client(hub_broker.host, hub_broker.port, identifier=f"{topic_prefix}-hub") as hub,
    ):
        await hub.subscribe([(state, 1), (data, 1)])
        async with aiomqtt.Client("127.0.0.1", relay.port, identifier=gw_id, will=will) as gw:
            relay.cut()
            assert relay.is_cut
            message = await next_message(hub)  # the broker saw the TCP connection drop
            assert (message.topic.value, message.payload) == (state, b"offline")
            await sees_the_drop(gw)

        # Nothing listens while cut: the reconnect is refused at once, not after a timeout.
        started = time.monotonic()
        with pytest.raises(aiomqtt.MqttError):
            async with aiomqtt.Client("127.0.0.1", relay.port, identifier=gw_id, timeout=5):
                pass
        assert time.monotonic() - started < 2

        relay.cut("broker")  # a second reason: restoring the uplink alone is not enough
        await relay.restore()
        assert relay.is_cut
        with pytest.raises(aiomqtt.MqttError):
            async with aiomqtt.Client("127.0.0.1", relay.port, identifier=gw_id, timeout=5):
                pass
        await relay.restore("broker")
        assert not relay.is_cut
        async with aiomqtt.Client("127.0.0.1", relay.port, identifier=gw_id) as gw:
            await gw.publish(data, b"back", qos=1)
        message = await next_message(hub)
        assert (message.topic.value, message.payload) == (data, b"back")
        assert (relay.connections, relay.refused) == (2, 0)


async def test_leaving_the_relay_closes_its_connections(
    hub_broker: Broker, topic_prefix: str
) -> None:
    state = gateway_topic(topic_prefix, Channel.STATE)
    will = aiomqtt.Will(state, b"offline", qos=1)
    async with aiomqtt.Client(
        hub_broker.host, hub_broker.port, identifier=f"{topic_prefix}-hub"
    ) as hub:
        await hub.subscribe(state, qos=1)
        async with AsyncExitStack() as gateway_lives_on:
            async with UplinkRelay(hub_broker.host, hub_broker.port) as relay:
                gw = aiomqtt.Client(
                    "127.0.0.1", relay.port, identifier=f"{topic_prefix}-gw", will=will
                )
                await gateway_lives_on.enter_async_context(gw)
            message = await next_message(hub)
            assert message.payload == b"offline"
            await sees_the_drop(gw)


@pytest.mark.parametrize("host", ["192.168.1.10", "example.org", "0.0.0.0"])
def test_a_target_off_the_loopback_is_refused(host: str) -> None:
    with pytest.raises(ValueError, match=re.escape("simulations stay on 127.0.0.1")):
        UplinkRelay(host, 1883)
