"""What the responder API needs from the hub: one Protocol, the values it returns, its errors.

The incident engine, the roster and the sensor registry implement :class:`ResponderService`
(or an adapter over them does); the API depends on nothing else of the hub. Errors::

    ServiceError
     ├── UnknownIncident   no incident has that id           → 404
     └── IncidentClosed    archived: nothing more is recorded → 409
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from hub.incidents.model import Incident, ReportKind
from streetwatch.ids import Slug
from streetwatch.kinds import KindName
from streetwatch.location import Coordinates

__all__ = [
    "IncidentClosed",
    "Resource",
    "ResponderInfo",
    "ResponderRole",
    "ResponderService",
    "ServiceError",
    "UnknownIncident",
]


class ServiceError(Exception):
    """Base of what a :class:`ResponderService` may raise for a request it refuses."""


class UnknownIncident(ServiceError):
    def __init__(self, incident_id: str) -> None:
        self.incident_id = incident_id
        super().__init__(f"no incident {incident_id!r}")


class IncidentClosed(ServiceError):
    def __init__(self, incident_id: str) -> None:
        self.incident_id = incident_id
        super().__init__(f"incident {incident_id!r} is closed; a new trigger opens a new one")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ResponderRole(StrEnum):
    GRID_WORKER = "grid_worker"  # 网格员
    COMMUNITY = "community"  # 社区
    STREET = "street"  # 街道
    DISTRICT = "district"  # 区: sees the whole district


class ResponderInfo(_Frozen):
    """A person on the roster, as far as the API scopes what they see."""

    id: Slug
    name: str = Field(description="As people call them, e.g. '张伟'.")
    role: ResponderRole
    district: Slug
    street: Slug | None = Field(None, description="Their street; None for the district role.")


class Resource(_Frozen):
    """A hydrant (or other water point) near an incident, with its pressure right now."""

    sensor: Slug = Field(description="Sensor id.")
    kind: KindName
    coordinates: Coordinates
    distance_m: float = Field(ge=0, description="Straight-line distance from the incident.")
    pressure_mpa: float | None = Field(None, description="Latest pressure; None if unknown.")
    ok: bool = Field(description="Usable now: pressure reported recently and within range.")


class ResponderService(Protocol):
    """The hub as the API sees it. Acting on an incident returns it as it is afterwards.

    ``acknowledge`` and ``resolve`` are idempotent: acknowledging an acknowledged or resolved
    incident keeps the first acknowledgement; resolving a resolved one changes nothing. All
    three acting methods raise :class:`UnknownIncident` or :class:`IncidentClosed`.
    """

    async def incidents(
        self, district: str | None, street: str | None, active_only: bool
    ) -> list[Incident]:
        """Incidents of ``district`` (None: all) touching ``street`` (its street or one of the
        streets it spans; None: any), newest first; ``active_only``: open or acknowledged."""
        ...

    async def get(self, incident_id: str) -> Incident | None: ...

    async def acknowledge(self, incident_id: str, by: str) -> Incident: ...

    async def resolve(self, incident_id: str, by: str) -> Incident: ...

    async def report(self, incident_id: str, by: str, kind: ReportKind, note: str) -> Incident:
        """Add a field report (on site, confirmed, false alarm, needs support)."""
        ...

    async def nearby_resources(self, incident_id: str) -> list[Resource]:
        """The nearest hydrants with pressure now, nearest first; UnknownIncident if none."""
        ...

    async def responder(self, responder_id: str) -> ResponderInfo | None:
        """The roster entry of a responder, or None if they are not on it."""
        ...

    async def metrics(self) -> bytes:
        """The hub's metrics in the Prometheus text format."""
        ...
