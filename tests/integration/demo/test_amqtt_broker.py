"""The embedded amqtt broker (the demo's broker without Mosquitto): what the hub and the edge
agents need of a broker, tested on the real thing in its own process."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import aiomqtt
import pytest

from simulators.run.brokers import tcp_open
from simulators.run.embedded_broker import AmqttBroker
from simulators.run.network import UplinkRelay


def running(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


async def received(client: aiomqtt.Client, count: int) -> list[aiomqtt.Message]:
    """The next ``count`` messages (the test fails on its timeout if they never come)."""
    messages = []
    async for message in client.messages:
        messages.append(message)
        if len(messages) == count:
            return messages
    return messages


@pytest.mark.timeout(30)
async def test_qos1_retained_wills_and_persistent_sessions(tmp_path: Path) -> None:
    async with AmqttBroker(tmp_path / "broker", name="t") as broker:
        host, port = broker.host, broker.port
        async with aiomqtt.Client(host, port, identifier="away", clean_session=False) as c:
            await c.subscribe("q/#", qos=1)
        async with aiomqtt.Client(host, port, identifier="pub") as c:
            for n in range(3):
                await c.publish("q/x", str(n).encode(), qos=1)
            await c.publish("r/board", b"kept", qos=1, retain=True)
        async with aiomqtt.Client(host, port, identifier="away", clean_session=False) as c:
            queued = await received(c, 3)  # published while it was away
        assert [m.payload for m in queued] == [b"0", b"1", b"2"]
        async with (
            UplinkRelay(host, port) as relay,
            aiomqtt.Client(host, port, identifier="watch") as watch,
        ):
            await watch.subscribe("w/#", qos=1)
            will = aiomqtt.Will("w/gw", b"dead", qos=1, retain=True)
            gateway = aiomqtt.Client(host, relay.port, identifier="gw", will=will)
            await gateway.__aenter__()
            relay.cut()  # its connection drops without a goodbye
            (death,) = await received(watch, 1)
            assert (str(death.topic), death.payload) == ("w/gw", b"dead")
            with contextlib.suppress(aiomqtt.MqttError):  # already disconnected
                await gateway.__aexit__(None, None, None)
        async with aiomqtt.Client(host, port, identifier="late") as c:
            await c.subscribe("r/#", qos=1)
            await c.subscribe("w/#", qos=1)
            kept = await received(c, 2)
        assert {(str(m.topic), m.payload, m.retain) for m in kept} == {
            ("r/board", b"kept", True), ("w/gw", b"dead", True)
        }  # fmt: skip


@pytest.mark.timeout(30)
async def test_mqtt5_is_refused_and_stop_leaves_nothing_running(tmp_path: Path) -> None:
    broker = AmqttBroker(tmp_path / "broker")
    async with broker:
        v5 = aiomqtt.Client(broker.host, broker.port, protocol=aiomqtt.ProtocolVersion.V5)
        with pytest.raises(aiomqtt.MqttError, match="Unsupported protocol version"):
            async with v5:
                pass
        pid, port = broker.pid, broker.port
        assert pid is not None
        assert running(pid)
    assert not broker.alive
    assert not running(pid)
    assert not await asyncio.to_thread(tcp_open, port)
