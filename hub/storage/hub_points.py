"""The points the hub writes about its own decisions (docs/storage.md): ``hub_event``,
``incident``, ``street_status`` and ``page``. What gateways send is in ``hub.storage.schema``,
with the table of every measurement."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hub.events import HubEvent
from hub.incidents.model import Incident
from hub.notify.escalation import PageRecord
from hub.storage.base import FieldValue, Point
from hub.storage.schema import position_fields, sorted_tags
from streetwatch.levels import WARNING_LEVELS, Level
from streetwatch.location import Coordinates

__all__ = [
    "StreetPicture",
    "hub_event_points",
    "incident_points",
    "page_points",
    "street_status_points",
]


def hub_event_points(event: HubEvent) -> list[Point]:
    """``hub_event``: what the hub noticed; ``count`` is 1 so panels can sum events."""
    tags = {
        "type": event.type.value,
        "level": event.level.value,
        "district": event.district,
        "street": event.street,
    }
    optional = {
        "community": event.community,
        "gateway": event.gateway,
        "sensor": event.sensor,
        "cause": event.cause.value if event.cause is not None else None,
    }
    tags |= {k: v for k, v in optional.items() if v is not None}
    fields: dict[str, FieldValue] = {
        "count": 1,
        "detail": event.detail,
        "gateways": ",".join(event.gateways),
    }
    if event.since is not None:
        fields["since_ms"] = event.since
    return [Point("hub_event", sorted_tags(tags), fields, event.t)]


def incident_points(incident: Incident) -> list[Point]:
    """``incident``: one point per change; ``street`` is ``*`` for district and city ones."""
    tags = {
        "district": incident.district,
        "street": incident.street or "*",
        "hazard": incident.hazard.value,
        "level": incident.level.value,
        "state": incident.state.value,
        "scope": incident.scope.value,
    }
    if incident.community is not None:
        tags["community"] = incident.community
    fields: dict[str, FieldValue] = {
        "id": incident.id,
        "count": 1,
        "muted": incident.muted,
        "acknowledged_by": incident.acknowledged_by or "",
        "open_s": (incident.updated_at - incident.opened_at) / 1000,
        "severity": incident.level.rank,
    }
    return [Point("incident", sorted_tags(tags), fields, incident.updated_at)]


@dataclass(frozen=True, slots=True)
class StreetPicture:
    """A street as ``street_status`` shows it (``hub.status`` works it out)."""

    district: str
    street: str
    open_by_level: Mapping[Level, int]  # open and acknowledged incidents spanning the street
    unacknowledged: int  # open, not muted
    gateways_online: int
    gateways_total: int
    cut_off: bool  # an area outage of the street, or of one of its communities
    position: Coordinates | None = None

    @property
    def level(self) -> Level:
        """The highest level of the street's open incidents (NONE without any)."""
        return max((lv for lv, n in self.open_by_level.items() if n), default=Level.NONE)


def street_status_points(picture: StreetPicture, t: int) -> list[Point]:
    """``street_status``: the street's picture at hub time ``t``."""
    tags = {"district": picture.district, "street": picture.street}
    level = picture.level
    fields: dict[str, FieldValue] = {
        "severity": level.rank,
        "level": level.value,
        "open_incidents": sum(picture.open_by_level.values()),
    }
    for lv in WARNING_LEVELS:
        fields[f"open_{lv.value}"] = picture.open_by_level.get(lv, 0)
    fields["unacknowledged"] = picture.unacknowledged
    fields["gateways_online"] = picture.gateways_online
    fields["gateways_total"] = picture.gateways_total
    fields["cut_off"] = picture.cut_off
    fields |= position_fields(picture.position)
    return [Point("street_status", sorted_tags(tags), fields, t)]


def page_points(entry: PageRecord, incident: Incident, role: str | None) -> list[Point]:
    """``page``: one audit entry of the escalator (a round, or one delivery to one person);
    ``role`` is the recipient's (``tier``), when known."""
    tags = {
        "district": incident.district,
        "street": incident.street or "*",
        "hazard": incident.hazard.value,
        "level": incident.level.value,
        "action": entry.action,
    }
    if entry.channel is not None:
        tags["channel"] = entry.channel
    fields: dict[str, FieldValue] = {
        "incident": incident.id,
        "recipient": entry.recipient or "",
        "count": 1,
    }
    if role is not None:
        fields["tier"] = role
    return [Point("page", sorted_tags(tags), fields, entry.t)]
