"""What makes two events the same incident, and the signal each event becomes.

The grouping key is (district, street, hazard, place). The place depends on the hazard:

=================  ============================  =========================================
hazard             place                         one incident per
=================  ============================  =========================================
fire, gas          community + building          building (community if no building known)
flood              the street                    street flood
water_supply       the street                    street (hydrants share the mains)
road               community                     community
device             community (street outages:    community, or the street when a whole
                   the street)                   street is dark
=================  ============================  =========================================

An edge event's hazard is its kind's (``KINDS[kind].hazard``), except device-fault types
(offline, stuck, battery...), which are the device hazard wherever the sensor is. Hub presence
events are all the device hazard.

Street incidents group in turn (the ``spread`` rule): those of one hazard in enough streets of a
district make a district incident (key ``pudong/*/flood/*/*``), in enough districts a city
incident (``*/*/flood/*/*``). Each street incident is one signal of those (``incident:<id>``),
active while it counts (active, not muted, at or above the rule's ``min_level``).

Tests and self-tests never open or page: :func:`ignored` says so, the engine records them in
the audit trail as ``ignored``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hub.events import HubEvent, HubEventType
from hub.fanout import Located
from hub.incidents.model import Incident, IncidentScope, Signal
from hub.incidents.rules import SpreadRule
from streetwatch.anomalies import Hazard
from streetwatch.kinds import KINDS
from streetwatch.messages import AnomalyEvent, EventState

__all__ = [
    "GroupKey",
    "edge_key",
    "edge_signal",
    "hazard_of",
    "hub_key",
    "hub_signal",
    "ignored",
    "spread_targets",
]

ANY = "*"
_BUILDING_HAZARDS = frozenset({Hazard.FIRE, Hazard.GAS})
_STREET_HAZARDS = frozenset({Hazard.FLOOD, Hazard.WATER_SUPPLY})

# Hub events that clear a signal, and the event type whose signal they clear.
_CLEARS = {
    HubEventType.GATEWAY_ONLINE: HubEventType.GATEWAY_OFFLINE,
    HubEventType.SENSOR_BACK: HubEventType.SENSOR_OVERDUE,
    HubEventType.AREA_RESTORED: HubEventType.AREA_OUTAGE,
}


@dataclass(frozen=True, slots=True)
class GroupKey:
    district: str | None  # None only for a city incident
    street: str | None  # None for district and city incidents
    hazard: Hazard
    community: str | None = None
    building: str | None = None

    @property
    def text(self) -> str:
        """``district/street/hazard/community/building``, ``*`` where a part is not narrowed."""
        parts = (self.district, self.street, self.hazard.value, self.community, self.building)
        return "/".join(ANY if p is None else p for p in parts)


def hazard_of(event: AnomalyEvent) -> Hazard:
    if event.type.is_device_fault:
        return Hazard.DEVICE
    return KINDS[event.kind].hazard


def ignored(event: AnomalyEvent) -> bool:
    """Tests and self-tests: recorded, never an incident, never a page."""
    return event.test or not event.type.pages_responders


def edge_key(located: Located[AnomalyEvent]) -> GroupKey:
    hazard = hazard_of(located.message)
    district, street = located.district, located.street
    if hazard in _STREET_HAZARDS:
        return GroupKey(district, street, hazard)
    if hazard in _BUILDING_HAZARDS:
        building = located.placement.building if located.placement else None
        return GroupKey(district, street, hazard, located.community, building)
    return GroupKey(district, street, hazard, located.community)


def edge_signal(located: Located[AnomalyEvent], *, muted: bool = False) -> Signal:
    e, placement = located.message, located.placement
    return Signal(
        key=f"edge:{e.gateway}:{e.sensor}:{e.type.value}:{e.metric or ''}",
        event_id=e.id,
        t=e.t,
        level=e.level,
        active=e.state is EventState.RAISED,
        source="edge",
        type=e.type.value,
        community=located.community,
        gateway=e.gateway,
        sensor=e.sensor,
        kind=e.kind,
        building=placement.building if placement else None,
        floor=placement.floor if placement else None,
        metric=e.metric,
        value=e.value,
        threshold=e.threshold,
        detail=e.detail,
        muted=muted,
    )


def hub_key(event: HubEvent) -> GroupKey:
    return GroupKey(event.district, event.street, Hazard.DEVICE, event.community)


def hub_signal(event: HubEvent, *, muted: bool = False) -> Signal:
    """A raise (offline, overdue, outage, refused) or the clear of one (online, back...).

    A refusal has nothing that clears it: it stays active until a responder resolves it.
    """
    raised = _CLEARS.get(event.type, event.type)
    if raised is HubEventType.AREA_OUTAGE:
        place = "/".join(p for p in (event.district, event.street, event.community) if p)
        key = f"hub:{raised.value}:{place}"
    elif raised is HubEventType.SENSOR_OVERDUE:
        key = f"hub:{raised.value}:{event.gateway}:{event.sensor}"
    else:
        key = f"hub:{raised.value}:{event.gateway}"
    return Signal(
        key=key,
        event_id=event.id,
        t=event.t,
        level=event.level,
        active=event.type not in _CLEARS,
        source="hub",
        type=raised.value,
        community=event.community,
        gateway=event.gateway,
        sensor=event.sensor,
        detail=event.detail,
        muted=muted,
    )


# -- district and city incidents ----------------------------------------------------------------

Target = tuple[GroupKey, IncidentScope, list[Incident]]


def spread_targets(rule: SpreadRule, hazard: Hazard, live: Iterable[Incident]) -> list[Target]:
    """The district and city incidents of ``hazard`` and the street incidents counting toward
    each: those the rule calls for, and those already active, which keep counting every street
    incident of their area (even a single one) until all have cleared."""
    live = list(live)
    if hazard not in rule.hazards:
        return []
    counting = [
        i
        for i in live
        if i.scope is IncidentScope.STREET
        and i.hazard is hazard
        and i.active
        and not i.muted
        and i.level >= rule.min_level
    ]
    by_district: dict[str, list[Incident]] = {}
    for i in counting:
        by_district.setdefault(i.district, []).append(i)
    targets: dict[str, Target] = {}
    for i in live:  # an active one counts every street incident of its area until all clear
        if i.scope is IncidentScope.DISTRICT and i.hazard is hazard:
            key = GroupKey(i.district, None, hazard)
            children = by_district.get(i.district, []) if i.active else []
            targets[key.text] = (key, i.scope, children)
        elif i.scope is IncidentScope.CITY and i.hazard is hazard:
            key = GroupKey(None, None, hazard)
            targets[key.text] = (key, i.scope, counting if i.active else [])
    for district, group in by_district.items():
        if len({i.street for i in group}) >= rule.streets:
            key = GroupKey(district, None, hazard)
            targets[key.text] = (key, IncidentScope.DISTRICT, group)
    if len(by_district) >= rule.districts:
        key = GroupKey(None, None, hazard)
        targets[key.text] = (key, IncidentScope.CITY, counting)
    return list(targets.values())
