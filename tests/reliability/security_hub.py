"""A real hub with its responder API and a webhook standing in for the responders' phones.

The hub runs on the test broker with a roster of two (王网格 the grid worker of Lianyang and
李街道 the Huamu street office) paged through one ``webhook`` channel that an ``HttpReceiver``
answers. A smoke gateway in Lianyang raises a red fire (two detectors in one building), whose
pages carry the one-tap links the link tests tamper with.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from integration.hub.conftest import HUAMU, fleet, make_hub_config, running_hub
from support.fleet import VirtualGateway
from support.http_receiver import HttpReceiver
from support.services import MosquittoService
from support.waiting import eventually

from hub.config import HubConfig
from hub.service import Hub
from streetwatch.levels import Level

__all__ = ["GRID_WORKER", "RespondingHub", "notify_section", "responding_hub"]

GRID_WORKER = "wang"


def notify_section(url: str, secret: str | None = None) -> dict[str, Any]:
    """The roster and its one webhook channel; ``secret`` signs the pages (None: it is left to
    the environment, ``STREETWATCH_HUB_NOTIFY__CHANNELS__HOOK__SECRET``)."""
    hook = {"type": "webhook", "url": url} | ({"secret": secret} if secret else {})
    return {
        "channels": {"hook": hook},
        "responders": [
            {"id": GRID_WORKER, "name": "王网格", "role": "grid_worker", "district": "pudong",
             "street": "huamu", "community": "lianyang", "contact": ["hook"]},
            {"id": "li", "name": "李街道", "role": "street", "district": "pudong",
             "street": "huamu", "contact": ["hook"]},
        ],
    }  # fmt: skip


@dataclass
class RespondingHub:
    hub: Hub
    receiver: HttpReceiver
    api: httpx.AsyncClient  # on the hub's API port

    async def red_fire(self, broker: MosquittoService, prefix: str) -> str:
        """Two smoke alarms in one Lianyang building: the id of the red incident they open."""
        gw = VirtualGateway(f"{prefix}-smoke", HUAMU[0], sensors=2, kind="smoke", building="b1")
        now = int(time.time() * 1000)
        async with fleet(broker, prefix, [gw]) as f:
            await f.send(gw, gw.birth(now))
            await eventually(lambda: self.hub.registry.get(gw.gateway) is not None, what="birth")
            await f.send(gw, gw.event(now, Level.ORANGE, sensor=0))
            await f.send(gw, gw.event(now, Level.ORANGE, sensor=1))

            async def red() -> bool:
                active = await self.hub.responding.store.active()
                return [i.level for i in active] == [Level.RED]

            await eventually(red, what="one red incident")
        (incident,) = await self.hub.responding.store.active()
        return incident.id

    async def ack_path(self, responder: str, level: Level) -> str:
        """The path (``/ack/<token>``) of the link in the page ``responder`` got at ``level``."""

        def link() -> str | None:
            for request in self.receiver.requests:
                page = request.json()
                if page["recipient"]["id"] == responder and page["incident"]["level"] == level:
                    url: str = page["ack_url"]
                    return url[url.index("/ack/") :]
            return None

        await eventually(lambda: link() is not None, what=f"{responder}'s {level} page")
        path = link()
        assert path is not None
        return path


@asynccontextmanager
async def responding_hub(
    base: Path,
    broker: MosquittoService,
    prefix: str,
    api: dict[str, Any],
    *,
    webhook_secret: str = "w" * 32,
) -> AsyncIterator[RespondingHub]:
    """The hub (``api``: its api section) serving, its pages going to a receiver."""
    async with HttpReceiver() as receiver:
        extra = {"notify": notify_section(receiver.url("/page"), webhook_secret), "api": api}
        config: HubConfig = make_hub_config(base / "hub", broker, prefix, extra)
        async with running_hub(config, base) as hub:
            assert hub.responding.api is not None
            url = f"http://127.0.0.1:{hub.responding.api.port}"
            async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=10) as client:
                yield RespondingHub(hub, receiver, client)
