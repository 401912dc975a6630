"""The hub side of a stand of the edge-side fault cases (``HubSide``): the hub and the
responders' webhook, what the hub stored, and the pages.

The hub runs in the test's process with its SQLite store, incidents, escalation and responder
API; ``HttpReceiver`` stands in for the responders' phones, and a responder answers by tapping
the one-tap link of his page. ``Stand`` (faults_edge_stand.py) adds the devices and the gateway.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
from integration.hub.conftest import make_hub_config, running_hub
from support.http_receiver import HttpReceiver
from support.services import MosquittoService
from support.waiting import eventually

from hub.service import Hub
from hub.storage.base import QueryFilter, Row
from streetwatch.kinds import KINDS

from .faults_edge_devices import Devices
from .faults_edge_windows import Window
from .security_hub import GRID_WORKER, notify_section

__all__ = ["HubSide", "Page"]

LINK_SECRET = "l" * 40
HUB_API = {"port": 0, "link_secret": LINK_SECRET}


@dataclass
class Page:
    """One page the webhook received: for which incident, to whom, at which level."""

    incident: str
    responder: str
    level: str
    attempt: int
    sent_at: int
    ack_path: str


class HubSide:
    """The hub and the webhook of a ``Stand``, and what they recorded."""

    tmp: Path
    broker: MosquittoService
    prefix: str
    gateway: str
    devices: Devices
    receiver: HttpReceiver
    hub: Hub
    api_url: str

    async def _open_hub(self, stack: AsyncExitStack) -> None:
        """Start the webhook receiver and the hub (on the stand's broker), closed by ``stack``."""
        self.receiver = await stack.enter_async_context(HttpReceiver())
        extra = {"notify": notify_section(self.receiver.url("/page"), "w" * 32), "api": HUB_API}
        config = make_hub_config(self.tmp / "hub", self.broker, self.prefix, extra)
        self.hub = await stack.enter_async_context(running_hub(config, self.tmp))
        assert self.hub.responding.api is not None
        self.api_url = f"http://127.0.0.1:{self.hub.responding.api.port}"

    # -- the responders ---------------------------------------------------------------------

    def pages(self) -> list[Page]:
        out = []
        for r in self.receiver.requests:
            body = r.json()
            url = body["ack_url"]
            out.append(
                Page(
                    body["incident"]["id"],
                    body["recipient"]["id"],
                    body["incident"]["level"],
                    body["attempt"],
                    body["sent_at"],
                    url[url.index("/ack/") :],
                )
            )
        return out

    async def paged(self, hazard: str, level: str, responder: str = GRID_WORKER) -> str:
        """The id of the ``hazard`` incident once ``responder`` got a page for it at ``level``."""

        async def page() -> Page | None:
            for incident in await self.hub.responding.store.recent(100):
                if incident.hazard.value != hazard:
                    continue
                for p in self.pages():
                    if (p.incident, p.responder, p.level) == (incident.id, responder, level):
                        return p
            return None

        async def arrived() -> bool:
            return await page() is not None

        await eventually(arrived, what=f"{responder}'s {level} page for the {hazard}")
        found = await page()
        assert found is not None
        return found.incident

    async def acknowledge(self, incident: str, responder: str = GRID_WORKER) -> None:
        """Tap the one-tap link of the latest page ``responder`` got for ``incident``."""
        links = [
            p.ack_path for p in self.pages() if (p.incident, p.responder) == (incident, responder)
        ]
        async with httpx.AsyncClient(base_url=self.api_url, trust_env=False) as http:
            tapped = await http.post(links[-1])
        assert tapped.status_code == 200, tapped.text

    # -- what the hub stored ----------------------------------------------------------------

    async def rows(self, measurement: str) -> list[Row]:
        await self.hub.writer.flush()
        q = QueryFilter(since_ms=0, measurement=measurement, gateway=self.gateway, limit=10**6)
        return await self.hub.backend.query(q)

    async def stored_windows(self) -> list[Window]:
        out = []
        for kind in {d.kind for d in self.devices.devices.values()}:
            primary = KINDS[kind].primary
            for row in await self.rows(f"{kind.value}_window"):
                span = int(float(row.fields["window_s"]) * 1000)
                count = int(row.fields[f"{primary}_count"])
                out.append(Window(row.tags["sensor"], row.time_ms - span, row.time_ms, count))
        return out

    async def hub_seqs(self, kind: str) -> dict[tuple[str, str], set[int]]:
        """(boot, channel) → sequence numbers the hub recorded as ``kind`` (stored or lost)."""
        await self.hub.sequence.flush()
        snapshot = await self.hub.sequence.store.load()
        out: dict[tuple[str, str], set[int]] = defaultdict(set)
        for r in snapshot.ranges:
            if r.gateway == self.gateway and r.kind == kind:
                out[(r.boot, r.channel)].update(range(r.first, r.last + 1))
        return out
