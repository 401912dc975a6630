"""A hub restart neither loses an incident nor pages again what was answered or just sent."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from support.fleet import VirtualGateway
from support.http_receiver import HttpReceiver
from support.services import MosquittoService
from support.waiting import eventually

from hub.incidents.model import IncidentState
from streetwatch.clock import ManualClock, now_ms
from streetwatch.levels import Level

from .conftest import fleet, running_hub
from .test_responding import LIANYANG, advance, notify, one_incident, pages, until_pages


@pytest.mark.timeout(90)
async def test_restart_keeps_incidents_and_does_not_page_again(
    hub_config: Any, tmp_path: Path, mosquitto: MosquittoService, topic_prefix: str
) -> None:
    clock = ManualClock(start=1_800_000_000)
    smoke = VirtualGateway(f"{topic_prefix}-b1", LIANYANG, sensors=2, kind="smoke", building="b1")
    async with HttpReceiver() as receiver:
        config = hub_config({"notify": notify(receiver.url("/page"))})
        async with (
            running_hub(config, tmp_path, clock) as hub,
            fleet(mosquitto, topic_prefix, [smoke]) as f,
        ):
            await f.send(smoke, smoke.birth(now_ms(clock)))
            await eventually(lambda: hub.registry.get(smoke.gateway) is not None, what="birth")
            await f.send(smoke, smoke.event(now_ms(clock), Level.RED, sensor=0))
            red = await one_incident(hub, Level.RED)
            await until_pages(receiver, 1)
            await advance(clock, 60)  # half of red's 2 minutes
        sent = len(receiver.requests)

        # The hub is back 30 s later: the incident is there, open, and the grid worker is not
        # paged again at once; the next round comes when the first page's 2 minutes are over.
        await advance(clock, 30)
        async with running_hub(config, tmp_path, clock) as hub:
            back = await hub.responding.store.get(red)
            assert back is not None
            assert (back.state, back.level) == (IncidentState.OPEN, Level.RED)
            await asyncio.sleep(0.3)
            assert len(receiver.requests) == sent
            await advance(clock, 30)  # 120 s after the first page
            await until_pages(receiver, sent + 1)
            assert pages(receiver)[-1][0] == "wang"
            await hub.responding.service.acknowledge(red, "wang")
        answered = len(receiver.requests)

        await advance(clock, 600)
        async with running_hub(config, tmp_path, clock) as hub:
            back = await hub.responding.store.get(red)
            assert back is not None
            assert (back.state, back.acknowledged_by) == (IncidentState.ACKNOWLEDGED, "wang")
            await advance(clock, 1200)
            await asyncio.sleep(0.3)
            assert hub.responding.escalator.pending() == []
        assert len(receiver.requests) == answered  # nothing after the answer, restart or not
