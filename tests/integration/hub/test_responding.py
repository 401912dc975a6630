"""叫应 end to end: two smoke alarms in one building become one red incident; the grid worker is
paged, paged again, then the street office; the street office taps its link; nothing more goes
out, and the street's retained incident topic says who answered.

Real Mosquitto, a real HTTP receiver standing in for the responders' webhook, the hub's real
responder API over HTTP; the hub runs on a manual clock so the escalation times are exact.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import pytest
from support.fleet import VirtualGateway
from support.http_receiver import HttpReceiver
from support.services import MosquittoService
from support.waiting import eventually

from hub.incidents.model import IncidentState
from hub.service import Hub
from hub.storage.base import QueryFilter
from streetwatch.clock import ManualClock, now_ms
from streetwatch.codec import load_json, validate
from streetwatch.levels import Level
from streetwatch.location import Area
from streetwatch.messages import StreetIncidents

from .conftest import fleet, running_hub

SECRET = "s" * 32
LIANYANG = Area(district="pudong", street="huamu", community="lianyang")


def notify(url: str) -> dict[str, Any]:
    return {
        "channels": {"hook": {"type": "webhook", "url": url, "secret": SECRET}},
        "responders": [
            {"id": "wang", "name": "王网格", "role": "grid_worker", "district": "pudong",
             "street": "huamu", "community": "lianyang", "contact": ["hook"]},
            {"id": "li", "name": "李街道", "role": "street", "district": "pudong",
             "street": "huamu", "contact": ["hook"]},
            {"id": "zhao", "name": "赵区", "role": "district", "district": "pudong",
             "contact": ["hook"]},
        ],
    }  # fmt: skip


def pages(receiver: HttpReceiver) -> list[tuple[str, int, int]]:
    """(person, tier, attempt) of every page received, in order; signatures checked."""
    out = []
    for r in receiver.requests:
        ts = r.headers["x-streetwatch-timestamp"].encode()
        mac = hmac.new(SECRET.encode(), ts + b"." + r.body, hashlib.sha256).hexdigest()
        assert r.headers["x-streetwatch-signature"] == f"sha256={mac}"
        body = r.json()
        out.append((body["recipient"]["id"], body["tier"], body["attempt"]))
    return out


async def until_pages(receiver: HttpReceiver, n: int) -> None:
    await eventually(lambda: len(receiver.requests) >= n, what=f"{n} pages")


@pytest.mark.timeout(90)
async def test_unanswered_red_escalates_and_one_tap_stops_everything(
    hub_config: Any, tmp_path: Path, mosquitto: MosquittoService, topic_prefix: str
) -> None:
    clock = ManualClock(start=1_800_000_000)
    gw = VirtualGateway(f"{topic_prefix}-b1", LIANYANG, sensors=2, kind="smoke", building="b1")
    async with HttpReceiver() as receiver:
        config = hub_config({"notify": notify(receiver.url("/page"))})
        async with (
            running_hub(config, tmp_path, clock) as hub,
            fleet(mosquitto, topic_prefix, [gw]) as f,
        ):
            await f.send(gw, gw.birth(now_ms(clock)))
            await eventually(lambda: hub.registry.get(gw.gateway) is not None, what="birth")
            await f.send(gw, gw.event(now_ms(clock), Level.ORANGE, sensor=0))
            await f.send(gw, gw.event(now_ms(clock), Level.ORANGE, sensor=1))
            incident = await one_incident(hub, Level.RED)
            # Orange at the first alarm, red at the second: each level is paged at once.
            await until_pages(receiver, 2)
            assert pages(receiver) == [("wang", 0, 1), ("wang", 0, 2)]
            first = receiver.requests[0].json()["message"]
            assert "联洋社区" in first["text"]
            # No sensor position in this birth: the map shows the community (examples/hub.yaml).
            assert first["map_url"].startswith(
                "https://uri.amap.com/marker?position=121.562,31.2232"
            )

            await advance(clock, 120)  # red: 2 min without an answer, the grid worker again
            await until_pages(receiver, 3)
            assert pages(receiver)[2:] == [("wang", 0, 3)]
            await advance(clock, 120)  # then the street office (and the grid worker again)
            await until_pages(receiver, 5)
            assert sorted(pages(receiver)[3:]) == [("li", 1, 1), ("wang", 0, 4)]

            link = next(
                r.json()["ack_url"]
                for r in receiver.requests
                if r.json()["recipient"]["id"] == "li"
            )
            api = f"http://127.0.0.1:{hub.responding.api.port}"  # type: ignore[union-attr]
            path = link[link.index("/ack/") :]
            async with httpx.AsyncClient(base_url=api) as http:
                opened = await http.get(path)  # as a link preview would: changes nothing
                assert opened.status_code == 200, opened.text
                assert "确认收到 / I have it" in opened.text
                still = await hub.responding.store.get(incident)
                assert still is not None
                assert still.state is IncidentState.OPEN
                tapped = await http.post(path)  # the page's button
                assert tapped.status_code == 200, tapped.text
                assert "已确认收到" in tapped.text
                again = await http.post(path)
                assert again.status_code == 403  # a link works once
            acked = await hub.responding.store.get(incident)
            assert acked is not None
            assert (acked.state, acked.acknowledged_by) == (IncidentState.ACKNOWLEDGED, "li")

            sent = len(receiver.requests)
            await advance(clock, 3600)  # an hour later: nobody was paged again
            await asyncio.sleep(0.3)
            assert len(receiver.requests) == sent
            assert hub.responding.escalator.pending() == []

            board = await retained_board(mosquitto, hub.link.topics.incident("pudong", "huamu"))
            # (The gateway, silent for the hour, has its own blue device incident by now.)
            (shown,) = [i for i in board.incidents if i.id == incident]
            assert (shown.id, shown.state, shown.level) == (incident, "acknowledged", Level.RED)
            assert shown.acknowledged_by == "li"
            await hub.writer.flush()
            history = await hub.backend.query(QueryFilter(since_ms=0, measurement="incident"))
            states = [r.tags["state"] for r in history if r.fields["id"] == incident]
            assert states[0] == "open"
            assert "acknowledged" in states  # every change in the time series, for Grafana
            trail = await hub.responding.store.audit_csv(incident)
            assert "acknowledged" in trail
            assert trail.count("notified") >= 4


async def one_incident(hub: Hub, level: Level) -> str:
    async def found() -> bool:
        active = await hub.responding.store.active()
        return len(active) == 1 and active[0].level is level

    await eventually(found, what=f"one {level} incident")
    (incident,) = await hub.responding.store.active()
    return incident.id


async def advance(clock: ManualClock, seconds: float) -> None:
    for _ in range(int(seconds)):
        await clock.advance(1)
    await clock.settle()


async def retained_board(broker: MosquittoService, topic: str) -> StreetIncidents:
    async with aiomqtt.Client(broker.host, broker.port) as client:
        await client.subscribe(topic, qos=1)
        async for message in client.messages:
            board: StreetIncidents = validate(load_json(bytes(message.payload)), StreetIncidents)
            return board
    raise AssertionError("no retained incident list")
