"""An in-memory street for the API tests: real Incident values, a roster, tokens, the app.

:class:`Street` implements ``ResponderService`` the way the incident model describes the life
cycle; ``sloppy`` makes it ignore the filters, to show the API scopes what it answers itself.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from fastapi import FastAPI

from hub.api.app import create_app
from hub.api.config import ApiConfig
from hub.api.service import (
    IncidentClosed,
    Resource,
    ResponderInfo,
    ResponderRole,
    UnknownIncident,
)
from hub.incidents.model import FieldReport, Incident, IncidentScope, IncidentState, ReportKind
from hub.notify.links import LinkSigner, RefusalReason, UsedLinks
from streetwatch.anomalies import Hazard
from streetwatch.clock import ManualClock, now_ms
from streetwatch.kinds import KindName
from streetwatch.levels import Level
from streetwatch.location import Coordinates

ADMIN = "admin-token-0123456789"
TOKENS = {
    "zhang-wei": "tok-zhang-wei-0123",
    "li-na": "tok-li-na-01234567",
    "wang-qu": "tok-wang-qu-012345",
    "ghost": "tok-ghost-0123456789",  # has a token, is not on the roster
}
T0 = 1_700_000_000_000


def incident(id: str, district: str, street: str | None, **extra: object) -> Incident:
    data: dict[str, object] = {
        "id": id,
        "key": f"key-{id}",
        "hazard": Hazard.FIRE,
        "district": district,
        "street": street,
        "level": Level.RED,
        "opened_at": T0,
        "updated_at": T0,
    }
    return Incident.model_validate(data | extra)


INCIDENTS = [
    incident("huamu-fire", "pudong", "huamu", community="lianyang"),
    incident("huamu-old", "pudong", "huamu", state=IncidentState.RESOLVED, resolved_at=T0),
    incident("huamu-closed", "pudong", "huamu", state=IncidentState.CLOSED, closed_at=T0),
    incident("yangjing-gas", "pudong", "yangjing", hazard=Hazard.GAS),
    incident(
        "pudong-flood",
        "pudong",
        None,
        hazard=Hazard.FLOOD,
        scope=IncidentScope.DISTRICT,
        streets=("huamu", "yangjing"),
    ),
    incident("xuhui-fire", "xuhui", "tianping"),
    incident("minhang-huamu", "minhang", "huamu"),  # another district's street of the same id
]
ROSTER = [
    ResponderInfo(
        id="zhang-wei",
        name="张伟",
        role=ResponderRole.GRID_WORKER,
        district="pudong",
        street="huamu",
    ),
    ResponderInfo(
        id="li-na", name="李娜", role=ResponderRole.STREET, district="pudong", street="yangjing"
    ),
    ResponderInfo(id="wang-qu", name="王区", role=ResponderRole.DISTRICT, district="pudong"),
]
HYDRANT = Resource(
    sensor="hydrant-01",
    kind=KindName.HYDRANT,
    coordinates=Coordinates(lat=31.2, lon=121.5),
    distance_m=80,
    pressure_mpa=0.32,
    ok=True,
)


@dataclass
class Street:
    """A ResponderService over real Incident values, following the life cycle of the model."""

    clock: ManualClock
    by_id: dict[str, Incident] = field(default_factory=lambda: {i.id: i for i in INCIDENTS})
    fail_next_ack: bool = False
    sloppy: bool = False

    async def incidents(
        self, district: str | None, street: str | None, active_only: bool
    ) -> list[Incident]:
        return [
            i
            for i in self.by_id.values()
            if self.sloppy
            or (
                district in (None, i.district)
                and (street is None or street == i.street or street in i.streets)
                and (i.active or not active_only)
            )
        ]

    async def get(self, incident_id: str) -> Incident | None:
        return self.by_id.get(incident_id)

    def _change(self, incident_id: str, **update: object) -> Incident:
        found = self.by_id.get(incident_id)
        if found is None:
            raise UnknownIncident(incident_id)
        if found.state is IncidentState.CLOSED:
            raise IncidentClosed(incident_id)
        self.by_id[incident_id] = found.model_copy(update=update)
        return self.by_id[incident_id]

    async def acknowledge(self, incident_id: str, by: str) -> Incident:
        if self.fail_next_ack:
            self.fail_next_ack = False
            raise RuntimeError("the incident store is down")
        found = self._change(incident_id)
        if found.state is not IncidentState.OPEN:
            return found
        t = now_ms(self.clock)
        state = IncidentState.ACKNOWLEDGED
        return self._change(incident_id, state=state, acknowledged_at=t, acknowledged_by=by)

    async def resolve(self, incident_id: str, by: str) -> Incident:
        t = now_ms(self.clock)
        state = IncidentState.RESOLVED
        return self._change(incident_id, state=state, resolved_at=t, resolved_by=by)

    async def report(self, incident_id: str, by: str, kind: ReportKind, note: str) -> Incident:
        found = self._change(incident_id)
        new = FieldReport(t=now_ms(self.clock), by=by, kind=kind, note=note)
        return self._change(incident_id, reports=(*found.reports, new))

    async def nearby_resources(self, incident_id: str) -> list[Resource]:
        return [HYDRANT]

    async def responder(self, responder_id: str) -> ResponderInfo | None:
        return next((r for r in ROSTER if r.id == responder_id), None)

    async def metrics(self) -> bytes:
        return b"streetwatch_hub_incidents_open 3\n"


@dataclass
class World:
    app: FastAPI
    client: httpx.AsyncClient
    street: Street
    links: LinkSigner
    clock: ManualClock
    refused: list[tuple[RefusalReason, str]]

    def ack_path(self, incident_id: str, responder_id: str, level: Level = Level.RED) -> str:
        """The path of a link paging at ``level`` (the street's incidents are red)."""
        return "/ack/" + self.links.token(incident_id, responder_id, level)


def config() -> ApiConfig:
    return ApiConfig.model_validate(
        {"admin_token": ADMIN, "responder_tokens": json.dumps(TOKENS), "link_secret": "k" * 32}
    )


@asynccontextmanager
async def open_world() -> AsyncIterator[World]:
    """The app over a fresh :class:`Street`, with an httpx client on it (no network)."""
    clock = ManualClock()
    street = Street(clock)
    links = LinkSigner(b"k" * 32, "https://hub.example.cn", 3600, clock=clock)
    refused: list[tuple[RefusalReason, str]] = []

    async def audit(reason: RefusalReason, prefix: str) -> None:
        refused.append((reason, prefix))

    async with UsedLinks(None, clock=clock) as used:
        app = create_app(street, config(), links, used, on_refused=audit)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield World(app, client, street, links, clock, refused)


def auth(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN if who == 'admin' else TOKENS[who]}"}
