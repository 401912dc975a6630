"""What the scorer reads about a run: incidents, pages and acknowledgements.

Independent of the hub's models: ``ObservedIncident.from_hub_json`` reads only the fields it
needs from the hub's ``Incident`` JSON and ignores the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from streetwatch.anomalies import Hazard
from streetwatch.levels import Level

Scope = Literal["street", "district", "city"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _HubSignal(BaseModel):
    model_config = ConfigDict(extra="ignore")
    sensor: str | None = None
    gateway: str | None = None


class _HubIncident(BaseModel):
    """The fields of the hub's Incident JSON that scoring reads (the rest is ignored)."""

    model_config = ConfigDict(extra="ignore")
    id: str
    hazard: Hazard
    scope: Scope = "street"
    district: str
    street: str | None = None
    community: str | None = None
    building: str | None = None
    level: Level
    opened_at: int
    acknowledged_at: int | None = None
    signals: tuple[_HubSignal, ...] = ()
    streets: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()


class ObservedIncident(Frozen):
    """An incident as the scorer sees it, independent of the hub's models."""

    id: str
    hazard: Hazard
    level: Level
    scope: Scope = "street"
    district: str
    street: str | None = None
    community: str | None = None
    building: str | None = None
    streets: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()
    opened_at: int
    reopened_at: tuple[int, ...] = Field(
        (),
        description="Times it was reopened (a resolved incident re-triggered, or an answered "
        "one risen above the answered level), from the hub's audit trail (its incident JSON "
        "does not say): each is raised anew, and paged anew at a level that pages.",
    )
    peaks: tuple[Level, ...] = Field(
        (),
        description="The highest level of each life: from the opening, then from each "
        "reopening (``level`` is the highest of all); empty when not known.",
    )
    acknowledged_at: int | None = None
    first_page_at: int | None = None
    sensors: tuple[str, ...] = ()
    gateways: tuple[str, ...] = ()

    @classmethod
    def from_hub_json(cls, data: Mapping[str, Any]) -> ObservedIncident:
        """From the JSON of the hub's ``Incident`` (``hub/incidents/model.py``)."""
        hub = _HubIncident.model_validate(data)
        fields = hub.model_dump(exclude={"signals"})
        sensors = sorted({s.sensor for s in hub.signals if s.sensor})
        gateways = sorted({s.gateway for s in hub.signals if s.gateway})
        return cls(**fields, sensors=tuple(sensors), gateways=tuple(gateways))

    def merged(self, later: ObservedIncident) -> ObservedIncident:
        """Two snapshots of this incident as one: the place of the later, the extremes of both."""

        def first(a: int | None, b: int | None) -> int | None:
            return min(x for x in (a, b) if x is not None) if (a, b) != (None, None) else None

        def union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(sorted({*a, *b}))

        return later.model_copy(
            update={
                "level": max(self.level, later.level),
                "opened_at": min(self.opened_at, later.opened_at),
                "reopened_at": tuple(sorted({*self.reopened_at, *later.reopened_at})),
                "peaks": later.peaks or self.peaks,
                "acknowledged_at": first(self.acknowledged_at, later.acknowledged_at),
                "first_page_at": first(self.first_page_at, later.first_page_at),
                "streets": union(self.streets, later.streets),
                "districts": union(self.districts, later.districts),
                "sensors": union(self.sensors, later.sensors),
                "gateways": union(self.gateways, later.gateways),
            }
        )


class ObservedPage(Frozen):
    incident_id: str
    t: int
    recipient: str | None = None
    channel: str | None = None
    delivered: bool = True


class ObservedAck(Frozen):
    incident_id: str
    t: int
    by: str | None = None
