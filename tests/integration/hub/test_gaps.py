"""A message lost on the way: the hub sees the gap, asks for it, and stores it when it comes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from support.services import MosquittoService
from support.waiting import eventually

from streetwatch.messages import LostRange, Resend

from .conftest import fleet, fleet_of, running_hub
from .stored import stored_readings


async def test_a_gap_is_asked_for_and_filled(
    hub_config: Any, tmp_path: Path, mosquitto: MosquittoService, topic_prefix: str
) -> None:
    config = hub_config({"ingest": {"reorder_timeout_s": 0.5}})
    (g,) = fleet_of(1, topic_prefix)
    now = int(time.time() * 1000)
    async with running_hub(config, tmp_path) as hub, fleet(mosquitto, topic_prefix, [g]) as f:
        await f.send(g, g.birth(now))
        f.drop_next_publish |= {(g.boot, "data", 2), (g.boot, "data", 3)}
        for step in range(6):
            await f.send(g, g.telemetry(now + step))
        await eventually(f.all_confirmed, what="the gap asked for, re-sent and confirmed")
        await hub.writer.flush()
        resends = [c for _, c in f.commands if isinstance(c, Resend)]
        stats = hub.sequence.stats()
    assert resends, "the hub never asked for the missing messages"
    assert resends[0].ranges == ((2, 3),)
    assert stats.gaps_filled == 2
    assert stats.open_gap_seqs == 0
    stored = await stored_readings(config, tmp_path, topic_prefix)
    assert sorted((s.sensor, s.t, s.depth) for s in stored) == sorted(g.expected_readings())


async def test_a_range_the_gateway_lost_is_no_longer_asked_for(
    hub_config: Any, tmp_path: Path, mosquitto: MosquittoService, topic_prefix: str
) -> None:
    config = hub_config({"ingest": {"reorder_timeout_s": 60}})
    (g,) = fleet_of(1, topic_prefix)
    now = int(time.time() * 1000)
    async with running_hub(config, tmp_path) as hub, fleet(mosquitto, topic_prefix, [g]) as f:
        await f.send(g, g.birth(now))
        f.drop_next_publish.add((g.boot, "data", 1))
        for step in range(3):
            await f.send(g, g.telemetry(now + step))
        g.unconfirmed.pop((g.boot, "data", 1))  # its outbox evicted it (disk quota)
        await f.send(
            g, g.health(now, lost=(LostRange(boot=g.boot, channel="data", first=1, last=1),))
        )
        await eventually(f.all_confirmed, what="confirmed")
        await eventually(lambda: hub.sequence.stats().gaps_lost == 1, what="the loss noted")
        confirms = [c for _, c in f.commands if c.channel == "data" and not isinstance(c, Resend)]
        assert any(lo <= 1 <= hi for c in confirms for lo, hi in c.ranges), (
            "the lost range must be confirmed so the gateway stops reporting it"
        )
        assert hub.sequence.stats().open_gap_seqs == 0
        assert hub.sequence.due_resends(now + 3_600_000) == []
