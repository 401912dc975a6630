"""A fleet's readings reach each real backend exactly once, with the right tags."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from support.services import MosquittoService
from support.waiting import eventually

from streetwatch.topics import Channel

from .conftest import fleet, fleet_of, running_hub
from .stored import backend_extra, stored_readings

BACKENDS = ["sqlite", "influxdb_v1", "influxdb_v2"]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_fleet_readings_are_stored_exactly_once_with_their_tags(
    backend: str,
    hub_config: Any,
    tmp_path: Path,
    mosquitto: MosquittoService,
    topic_prefix: str,
    request: pytest.FixtureRequest,
) -> None:
    influxdb = request.getfixturevalue("influxdb") if backend == "influxdb_v1" else None
    vm = request.getfixturevalue("victoriametrics") if backend == "influxdb_v2" else None
    config = hub_config({"storage": backend_extra(backend, topic_prefix, influxdb, vm)})
    gateways = fleet_of(6, topic_prefix)
    now = int(time.time() * 1000)
    async with running_hub(config, tmp_path) as hub, fleet(mosquitto, topic_prefix, gateways) as f:
        for g in gateways:
            await f.send(g, g.birth(now - 60_000))
        await eventually(lambda: all(hub.registry.get(g.gateway) for g in gateways), what="births")
        for step in range(10):
            for g in gateways:
                await f.send(g, g.telemetry(now - (10 - step) * 1000))
        await f.send(gateways[1], gateways[1].event(now))
        await f.send(gateways[2], gateways[2].health(now))
        await eventually(f.all_confirmed, what="every message confirmed by the hub")
        # The same messages delivered again (QoS 1 redelivery, a gateway's resend).
        for seq in (0, 3, 9):
            await f.republish(gateways[0], Channel.DATA, seq)
        await eventually(lambda: hub.counters.get("duplicate", "data") == 3, what="duplicates")
        await hub.writer.flush()

    stored = await stored_readings(config, tmp_path, topic_prefix, influxdb, vm)
    expected = sorted(r for g in gateways for r in g.expected_readings())
    assert sorted((s.sensor, s.t, s.depth) for s in stored) == expected
    area_of = {g.gateway: g.area for g in gateways}
    for s in stored:
        tags = dict(s.tags)
        area = area_of[tags["gateway"]]
        assert (tags["district"], tags["street"], tags["community"]) == (
            area.district,
            area.street,
            area.community,
        )
        assert tags["sensor"] == s.sensor
        assert tags["risk_point"] == "underpass"
        assert tags["building"].startswith("b")
        assert tags["quality"] == "good"
