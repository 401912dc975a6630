"""The hub as the responder API and the escalator see it: adapters over engine and store.

``HubResponders`` implements ``hub.api.service.ResponderService`` with the incident engine, the
incident store, the roster and the hydrant watch; ``StoreAudit`` lets the escalator write its
pages into the incident store's audit trail (one trail per incident, exportable as CSV).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hub.api.service import (
    IncidentClosed,
    Resource,
    ResponderInfo,
    ResponderRole,
    UnknownIncident,
)
from hub.city import CityConfig
from hub.incidents.audit import AuditAction, AuditEntry
from hub.incidents.engine import IncidentClosedError, IncidentEngine, UnknownIncidentError
from hub.incidents.model import Incident, ReportKind
from hub.incidents.resources import HydrantWatch
from hub.incidents.store import IncidentStore
from hub.notify.config import NotifyConfig
from hub.notify.escalation import PageRecord
from streetwatch.clock import Clock, now_ms
from streetwatch.location import Coordinates

Position = Callable[[str | None, str | None], Coordinates | None]  # (gateway, sensor) -> where


def incident_center(incident: Incident, city: CityConfig, position: Position) -> Coordinates | None:
    """Where it is: its sensors' positions, else its community's or its street's."""
    for signal in incident.signals:
        found = position(signal.gateway, signal.sensor)
        if found is not None:
            return found
    street = city.street(incident.district, incident.street) if incident.street else None
    if street is None:
        return None
    for community in street.communities:
        if community.id == incident.community and community.coordinates is not None:
            return community.coordinates
    return street.coordinates


class StoreAudit:
    """The escalator's audit log, written to the incident store's trail."""

    def __init__(self, store: IncidentStore) -> None:
        self.store = store

    async def record(self, entry: PageRecord) -> None:
        await self.store.record(
            AuditEntry(
                entry.t,
                entry.incident_id,
                AuditAction(entry.action),
                entry.actor,
                entry.channel,
                entry.recipient,
                entry.detail,
            )
        )

    async def audit(self, incident_id: str) -> Sequence[AuditEntry]:
        return await self.store.audit(incident_id)


class HubResponders:
    def __init__(
        self,
        *,
        engine: IncidentEngine,
        store: IncidentStore,
        notify: NotifyConfig,
        city: CityConfig,
        hydrants: HydrantWatch,
        sensor_position: Position,
        metrics: Callable[[], bytes],
        clock: Clock,
    ) -> None:
        self.engine, self.store, self.hydrants = engine, store, hydrants
        self.city, self.clock = city, clock
        self._roster = {r.id: r for r in notify.responders}
        self._position = sensor_position
        self._metrics = metrics

    async def incidents(
        self, district: str | None, street: str | None, active_only: bool
    ) -> list[Incident]:
        if active_only:
            found = await self.store.active(district, street)
        else:
            found = [
                i
                for i in await self.store.recent(500)
                if (district is None or district in (i.district, *i.districts))
                and (street is None or street in (i.street, *i.streets))
            ]
        return sorted(found, key=lambda i: (i.opened_at, i.id), reverse=True)

    async def get(self, incident_id: str) -> Incident | None:
        return await self.store.get(incident_id)

    async def acknowledge(self, incident_id: str, by: str) -> Incident:
        return await self._act(lambda: self.engine.acknowledge(incident_id, by))

    async def resolve(self, incident_id: str, by: str) -> Incident:
        return await self._act(lambda: self.engine.resolve(incident_id, by))

    async def report(self, incident_id: str, by: str, kind: ReportKind, note: str) -> Incident:
        return await self._act(lambda: self.engine.report(incident_id, by, kind, note))

    async def _act(self, action: Callable[[], object]) -> Incident:
        try:
            result = await action()  # type: ignore[misc]
        except UnknownIncidentError as exc:
            raise UnknownIncident(str(exc)) from None
        except IncidentClosedError as exc:
            raise IncidentClosed(str(exc)) from None
        assert isinstance(result, Incident)
        return result

    async def nearby_resources(self, incident_id: str) -> list[Resource]:
        incident = await self.store.get(incident_id)
        if incident is None:
            raise UnknownIncident(f"no incident {incident_id!r}")
        center = incident_center(incident, self.city, self._position)
        if center is None:
            return []
        return [
            Resource(
                sensor=n.hydrant.sensor,
                kind="hydrant",
                coordinates=n.hydrant.coordinates,
                distance_m=round(n.distance_m, 1),
                pressure_mpa=n.hydrant.pressure_mpa,
                ok=n.ok,
            )
            for n in self.hydrants.nearest(center, now_ms(self.clock))
        ]

    async def responder(self, responder_id: str) -> ResponderInfo | None:
        r = self._roster.get(responder_id)
        if r is None:
            return None
        return ResponderInfo(
            id=r.id,
            name=r.name,
            role=ResponderRole(r.role.value),
            district=r.district,
            street=r.street,
        )

    async def metrics(self) -> bytes:
        return self._metrics()
