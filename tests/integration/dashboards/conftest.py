"""A real InfluxDB 1.x that the real hub filled from a simulated scenario, once per module.

The scenario (every-panel.yaml) is played against private brokers, the hub and an edge agent per
gateway, with the hub writing to a database of its own on the session's InfluxDB: what the
dashboards query is exactly what the hub stores.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.services import InfluxDBService

from simulators.run.runner import PlayStats, ScenarioRun
from simulators.scenarios import load_scenario
from simulators.tape.compile import Tape, compile_tape

from .filled import FilledDatabase

SCENARIO = Path(__file__).with_name("every-panel.yaml")
SEED = 5
SPEED = 120.0  # 36 simulated minutes in about 18 s
LEAD_S = 20.0  # the runner starts everything this long before the tape (births, sensor_info)


async def _play(tape: Tape, work: Path, storage: dict[str, Any]) -> PlayStats:
    async with ScenarioRun(tape, work, speed=SPEED, lead_s=LEAD_S, storage=storage) as run:
        return await run.play()


@pytest.fixture(scope="module")
def filled(
    influxdb: InfluxDBService, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FilledDatabase]:
    tape = compile_tape(load_scenario(SCENARIO), SEED)
    database = f"dashboards_{uuid.uuid4().hex[:8]}"
    storage = {
        "backend": "influxdb_v1",
        "influxdb_v1": {"url": influxdb.url, "database": database},
        "flush_interval_s": 1,
    }
    stats = asyncio.run(_play(tape, tmp_path_factory.mktemp("every-panel"), storage))
    assert stats.published > 0, "the scenario published nothing"
    from_ms = tape.start_ms - int(LEAD_S * 1000) - 10_000  # the gateways' births are in range
    yield FilledDatabase(influxdb, database, from_ms, tape.end_ms + 60_000, stats, tape)
    influxdb.drop_database(database)
