"""Broker: a private Mosquitto that starts, restarts like a real broker, and stops for good.

A restart must keep what a real Mosquitto keeps across a graceful restart: persistent sessions
and the QoS 1 messages queued for them, on the same port.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
from pathlib import Path

import aiomqtt
import pytest

from simulators.run.brokers import Broker, BrokerError
from streetwatch.topics import Channel, TopicTree

pytestmark = pytest.mark.integration

WAIT = 10.0  # seconds any single expected MQTT delivery may take


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    return True


async def test_restart_keeps_a_persistent_session_and_its_queued_message(
    tmp_path: Path, topic_prefix: str
) -> None:
    topic = TopicTree(topic_prefix).gateway("d1", "s1", "gw-a", Channel.EVENT)
    subscriber_id = f"{topic_prefix}-hub"
    async with Broker(tmp_path / "hub-broker", name="hub") as broker:
        port, first_pid = broker.port, broker.pid
        assert port != 1883
        assert first_pid is not None
        assert broker.alive
        async with aiomqtt.Client(
            broker.host, broker.port, identifier=subscriber_id, clean_session=False
        ) as subscriber:
            await subscriber.subscribe(topic, qos=1)
        async with aiomqtt.Client(broker.host, broker.port) as publisher:
            await publisher.publish(topic, b"while you were away", qos=1)

        await broker.restart()
        assert broker.port == port
        assert broker.pid != first_pid
        assert not process_exists(first_pid)

        async with aiomqtt.Client(
            broker.host, broker.port, identifier=subscriber_id, clean_session=False
        ) as subscriber:
            async with asyncio.timeout(WAIT):
                message = await anext(aiter(subscriber.messages))
            assert (message.topic.value, message.payload) == (topic, b"while you were away")
    assert not broker.alive
    assert broker.pid is not None
    assert not process_exists(broker.pid)


async def test_config_and_log_live_in_the_data_dir(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "local-broker", name="local")
    with pytest.raises(BrokerError, match="before its first start"):
        _ = broker.port
    async with broker:
        config = broker.conf_path.read_text()
        assert f"listener {broker.port} 127.0.0.1\n" in config
        assert f"persistence_location {tmp_path / 'local-broker'}/\n" in config
        assert broker.log_path.parent == tmp_path / "local-broker"
    assert "mosquitto.db" in os.listdir(tmp_path / "local-broker")  # saved on SIGTERM
    assert broker.log_path.stat().st_size > 0


async def test_a_port_already_taken_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        broker = Broker(tmp_path / "broker", port=port)
        with pytest.raises(
            BrokerError, match=re.escape(f"port {port} on 127.0.0.1 is already in use")
        ):
            await broker.start()
    assert broker.pid is None
