"""While the agent is down, the local broker keeps the devices' messages for it.

The agent's local session is persistent: a smoke alarm published while no agent runs (after a
crash, during an update) reaches the hub once the next run is up, instead of never.
"""

from __future__ import annotations

from pathlib import Path

import aiomqtt
import pytest
from support.hub_peer import HubPeer
from support.services import MosquittoService
from support.waiting import eventually

from edge.agent import EdgeAgent
from integration.edge.test_uplink_outage import Devices, gateway_config
from streetwatch.messages import EventState


@pytest.mark.integration
@pytest.mark.timeout(60)
async def test_an_alarm_published_while_the_agent_is_down_reaches_the_hub(
    mosquitto: MosquittoService, topic_prefix: str, tmp_path: Path
) -> None:
    config = gateway_config(mosquitto, mosquitto, topic_prefix, tmp_path)
    hub = HubPeer(mosquitto.host, mosquitto.port, topic_prefix, client_id=f"hub-{topic_prefix}")
    async with aiomqtt.Client(mosquitto.host, mosquitto.port) as devices_client, hub:
        devices = Devices(devices_client, topic_prefix)
        async with EdgeAgent(config, base_dir=tmp_path) as agent:
            await eventually(lambda: agent.local.connected, what="local broker subscription")
        assert hub.events() == []

        await devices.smoke(True)  # no agent is running

        async with EdgeAgent(config, base_dir=tmp_path):
            await hub.wait_for(
                lambda h: any(e.state is EventState.RAISED for e in h.events()), within_s=20
            )
        (raised,) = [e for e in hub.events() if e.state is EventState.RAISED]
        assert raised.sensor == "smoke-1"
