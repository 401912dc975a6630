"""End to end: a real edge agent, a real hub, one Mosquitto, the store.

Devices publish on the local broker; the agent decodes, detects and reports; the hub registers
it from its birth, stores its summaries and its alarm, and confirms them, so the agent's outbox
empties: the hub's confirms drive the gateway's store-and-forward.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import aiomqtt
from support.services import MosquittoService
from support.waiting import eventually

from edge.agent import EdgeAgent
from edge.config import GatewayConfig
from edge.outbox import Lane
from hub.storage.base import QueryFilter
from integration.edge.test_uplink_outage import Devices, gateway_config
from streetwatch.clock import ScaledClock
from streetwatch.messages import EventState

from .conftest import running_hub


async def test_edge_agent_reports_through_the_hub_to_the_store(
    hub_config: Any, tmp_path: Path, mosquitto: MosquittoService, topic_prefix: str
) -> None:
    data = gateway_config(mosquitto, mosquitto, topic_prefix, tmp_path).model_dump()
    data["gateway"]["id"] = f"{topic_prefix}-gw"
    data["gateway"]["area"] = {"district": "pudong", "street": "huamu", "community": "lianyang"}
    edge_config = GatewayConfig(**data)
    clock = ScaledClock(start=time.time(), speed=60.0)  # the agent's minute-long windows
    async with (
        running_hub(hub_config(), tmp_path) as hub,
        aiomqtt.Client(mosquitto.host, mosquitto.port) as devices_client,
        EdgeAgent(edge_config, base_dir=tmp_path, clock=clock) as agent,
    ):
        gateway = edge_config.gateway.id
        await eventually(lambda: hub.registry.get(gateway) is not None, what="the birth")
        await eventually(lambda: agent.local.connected, what="local subscription")
        devices = Devices(devices_client, topic_prefix)
        for depth in (3.0, 4.0, 3.5):
            await devices.water(depth)
        await devices.smoke(True)
        await devices.smoke(True)

        async def stored(q: QueryFilter) -> bool:
            await hub.writer.flush()
            return bool(await hub.backend.query(q))

        since = int(time.time() * 1000) - 3_600_000
        alarm = QueryFilter(since_ms=since, measurement="anomaly_event", gateway=gateway)
        await eventually(lambda: stored(alarm), what="the smoke alarm in the store")
        window = QueryFilter(since_ms=0, measurement="water_level_window", gateway=gateway)
        await eventually(lambda: stored(window), what="a water level summary in the store")

        async def outbox_empty() -> bool:
            depth = (await agent.outbox.stats()).depth
            return depth[Lane.EVENT] == 0 and depth[Lane.TELEMETRY] == 0

        await eventually(outbox_empty, what="the agent's outbox emptied by the hub's confirms")
        (row,) = [
            r
            for r in await hub.backend.query(alarm)
            if r.tags.get("state") == EventState.RAISED.value and r.tags.get("kind") == "smoke"
        ]
        assert (row.tags["community"], row.tags["building"]) == ("lianyang", "b3")
        assert hub.counters.get("received", "event") >= 1
