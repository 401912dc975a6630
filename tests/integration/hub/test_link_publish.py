"""The hub's publish gives up as soon as its broker connection ends.

aiomqtt alone waits out its timeout (10 s) for the PUBACK of a publish in flight when the
connection drops; the incident board publishes while the incident engine holds its lock, so after
a broker restart every alarm waited that long (seen in tests/reliability/test_faults_hub.py).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiomqtt
import pytest
from support.services import start_mosquitto

from hub.config import HubMqttConfig
from hub.ingest.link import HubLink
from streetwatch.clock import SystemClock


async def _nothing(_: object) -> None:
    return None


async def test_a_publish_in_flight_fails_at_once_when_the_broker_goes(tmp_path: Path) -> None:
    broker = start_mosquitto(tmp_path / "mosquitto")
    config = HubMqttConfig(host=broker.host, port=broker.port, topic_prefix="linktest")
    link = HubLink(config, client_id="link-test", on_message=_nothing, clock=SystemClock())
    try:
        async with link:
            await asyncio.wait_for(link.connected.wait(), 10)
            broker.freeze()  # the broker takes the PUBLISH but never answers
            publishing = asyncio.ensure_future(link.publish("linktest/x", b"1"))
            await asyncio.sleep(0.2)
            assert not publishing.done()
            started = time.monotonic()
            broker.kill()  # the connection ends with the PUBACK outstanding
            with pytest.raises(aiomqtt.MqttError, match="connection lost"):
                await asyncio.wait_for(publishing, 9)
            assert time.monotonic() - started < 3
    finally:
        broker.kill()
