"""Two hubs split a city: each subscribes to its own streets only, and together miss nothing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from support.services import MosquittoService
from support.waiting import eventually

from .conftest import HUAMU, YANGJING, fleet, fleet_of, running_hub
from .stored import stored_readings


async def test_each_hub_takes_only_its_street(
    hub_config: Any, tmp_path: Path, mosquitto: MosquittoService, topic_prefix: str
) -> None:
    huamu_cfg = hub_config({"hub": {"id": "huamu"}, "mqtt": {"shards": ["pudong/huamu"]}}, "h1")
    yangjing_cfg = hub_config(
        {"hub": {"id": "yangjing"}, "mqtt": {"shards": ["pudong/yangjing"]}}, "h2"
    )
    huamu = fleet_of(3, f"{topic_prefix}-h", HUAMU)
    yangjing = fleet_of(2, f"{topic_prefix}-y", [YANGJING])
    now = int(time.time() * 1000)
    async with (
        running_hub(huamu_cfg, tmp_path) as hub_h,
        running_hub(yangjing_cfg, tmp_path) as hub_y,
        fleet(mosquitto, topic_prefix, huamu + yangjing) as f,
    ):
        for g in huamu + yangjing:
            await f.send(g, g.birth(now))
            for step in range(5):
                await f.send(g, g.telemetry(now + step))
        await eventually(f.all_confirmed, what="both streets confirmed")
        await hub_h.writer.flush()
        await hub_y.writer.flush()
        assert sorted(r.gateway for r in hub_h.registry.records()) == [g.gateway for g in huamu]
        assert sorted(r.gateway for r in hub_y.registry.records()) == [g.gateway for g in yangjing]
    for cfg, gateways, name in (
        (huamu_cfg, huamu, f"{topic_prefix}-h"),
        (yangjing_cfg, yangjing, f"{topic_prefix}-y"),
    ):
        stored = await stored_readings(cfg, tmp_path, name)
        expected = sorted(r for g in gateways for r in g.expected_readings())
        assert sorted((s.sensor, s.t, s.depth) for s in stored) == expected
