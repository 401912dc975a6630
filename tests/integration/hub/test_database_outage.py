"""The database goes down for a while and comes back: nothing lost, nothing doubled.

While InfluxDB is down the hub keeps taking messages (they are durable in its spool, so it
acknowledges and confirms them), reports the spool's depth, and drains it when the database is
back.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from support.services import MosquittoService, start_influxdb
from support.waiting import eventually

from .conftest import fleet, fleet_of, running_hub
from .stored import backend_extra, stored_readings


async def test_database_down_then_back_loses_nothing(
    hub_config: Any, tmp_path: Path, mosquitto: MosquittoService, topic_prefix: str
) -> None:
    influxdb = start_influxdb(tmp_path / "influxdb")  # our own: this test stops it
    try:
        extra = backend_extra("influxdb_v1", topic_prefix, influxdb, None)
        config = hub_config(
            {"storage": {**extra, "timeout_s": 2, "retry_min_s": 0.2, "retry_max_s": 1}}
        )
        gateways = fleet_of(4, topic_prefix)
        now = int(time.time() * 1000)
        async with (
            running_hub(config, tmp_path) as hub,
            fleet(mosquitto, topic_prefix, gateways) as f,
        ):
            for g in gateways:
                await f.send(g, g.birth(now - 60_000))

            async def send_rounds(first: int, count: int) -> None:
                for step in range(first, first + count):
                    for g in gateways:
                        await f.send(g, g.telemetry(now - 50_000 + step * 100))

            await send_rounds(0, 20)
            await eventually(f.all_confirmed, what="stored while the database is up")
            influxdb.stop()
            await send_rounds(20, 40)
            # Durable in the spool: confirmed to the gateways although the database is down.
            await eventually(f.all_confirmed, what="spooled and confirmed")
            down = hub.writer.stats()
            assert down.spool_points > 0
            assert not down.backend_up
            influxdb.start()
            await send_rounds(60, 20)
            await eventually(lambda: hub.writer.stats().spool_points == 0, what="spool drained")
            await eventually(f.all_confirmed, what="all confirmed")
            await hub.writer.flush()
            up = hub.writer.stats()
        assert up.backend_up
        assert up.drained_points >= down.spool_points
        stored = await stored_readings(config, tmp_path, topic_prefix, influxdb)
        expected = sorted(r for g in gateways for r in g.expected_readings())
        assert sorted((s.sensor, s.t, s.depth) for s in stored) == expected
        assert len(expected) == 4 * 3 * 80
    finally:
        influxdb.stop()
