"""The life cycle as pure functions: each takes an incident and returns the next version.

No I/O and no clock: the engine passes ``now`` (Unix ms) and saves what comes back. A function
that has nothing to change returns ``None``, so a duplicate event, a second acknowledgement or
an acknowledgement of a resolved incident changes nothing and is not saved again.
"""

from __future__ import annotations

from hub.incidents.grouping import GroupKey
from hub.incidents.model import (
    FieldReport,
    Incident,
    IncidentScope,
    IncidentState,
    ReportKind,
    Signal,
)
from hub.incidents.rules import Verdict
from streetwatch.levels import Level

__all__ = [
    "IncidentClosedError",
    "acknowledged",
    "closed",
    "derived",
    "opened",
    "outgrew_acknowledgement",
    "reopened",
    "reported",
    "resolved",
    "retriggered",
    "spread_to",
    "with_signal",
]


class IncidentClosedError(Exception):
    def __init__(self, incident_id: str) -> None:
        self.incident_id = incident_id
        super().__init__(f"incident {incident_id!r} is closed; a new trigger opens a new one")


def opened(incident_id: str, key: GroupKey, signal: Signal, now: int) -> Incident:
    """A new street incident made of its first signal."""
    assert key.district is not None
    return Incident(
        id=incident_id,
        key=key.text,
        hazard=key.hazard,
        district=key.district,
        street=key.street,
        community=key.community,
        building=key.building,
        level=signal.level,
        opened_at=now,
        updated_at=now,
        signals=(signal,),
        muted=signal.muted,
        streets=() if key.street is None else (key.street,),
    )


def with_signal(incident: Incident, signal: Signal) -> Incident | None:
    """``incident`` with ``signal`` replacing the one of its key; ``None`` when it changes
    nothing: the same event again, an older event than the one kept, or the clear of a signal
    the incident never had."""
    old = next((s for s in incident.signals if s.key == signal.key), None)
    if old is None:
        if not signal.active:
            return None
        return incident.model_copy(update={"signals": (*incident.signals, signal)})
    if old.t > signal.t or old == signal:
        return None
    signals = tuple(signal if s.key == signal.key else s for s in incident.signals)
    return incident.model_copy(update={"signals": signals})


def retriggered(before: Incident, after: Incident) -> bool:
    """A signal raised anew, or an active one at a higher level: what reopens a resolved
    incident (a clear, a duplicate or a falling level does not)."""
    old = {s.key: s for s in before.signals if s.active}
    return any(s.active and (s.key not in old or s.level > old[s.key].level) for s in after.signals)


def reopened(incident: Incident) -> Incident:
    return incident.model_copy(
        update={
            "state": IncidentState.OPEN,
            "acknowledged_at": None,
            "acknowledged_by": None,
            "resolved_at": None,
            "resolved_by": None,
        }
    )


def outgrew_acknowledgement(incident: Incident, acknowledged_level: Level) -> Incident | None:
    """``incident`` (its level just derived) reopened when it is acknowledged and its level
    rose above ``acknowledged_level``, the level it was acknowledged at: whoever answered a
    yellow did not answer the red, so the red must be paged (叫应). ``None`` when it stays as
    it is: not acknowledged (an open one is paged anyway, a resolved one follows
    :func:`retriggered`), or at or below the level that was answered."""
    if incident.state is not IncidentState.ACKNOWLEDGED or incident.level <= acknowledged_level:
        return None
    return reopened(incident)


def acknowledged(incident: Incident, by: str, now: int) -> Incident | None:
    """Only an open incident can be acknowledged; anything else is left as it is."""
    if incident.state is not IncidentState.OPEN:
        return None
    return incident.model_copy(
        update={
            "state": IncidentState.ACKNOWLEDGED,
            "acknowledged_at": now,
            "acknowledged_by": by,
            "updated_at": now,
        }
    )


def resolved(incident: Incident, by: str, now: int) -> Incident | None:
    if not incident.active:
        return None
    return incident.model_copy(
        update={
            "state": IncidentState.RESOLVED,
            "resolved_at": now,
            "resolved_by": by,
            "updated_at": now,
        }
    )


def closed(incident: Incident, now: int) -> Incident:
    return incident.model_copy(
        update={"state": IncidentState.CLOSED, "closed_at": now, "updated_at": now}
    )


def reported(incident: Incident, by: str, kind: ReportKind, note: str, now: int) -> Incident:
    """``incident`` with a field report; a closed incident takes none (it is archived)."""
    if incident.state is IncidentState.CLOSED:
        raise IncidentClosedError(incident.id)
    report = FieldReport(t=now, by=by, kind=kind, note=note)
    return incident.model_copy(update={"reports": (*incident.reports, report), "updated_at": now})


def derived(incident: Incident, verdict: Verdict, now: int) -> Incident:
    """The fields that follow from the signals: level, rule, muted, all-clear time."""
    any_active = any(s.active for s in incident.signals)
    return incident.model_copy(
        update={
            "level": verdict.level,
            "rule": verdict.rule,
            "muted": bool(incident.signals) and all(s.muted for s in incident.signals),
            "all_clear_at": None if any_active else (incident.all_clear_at or now),
            "updated_at": now,
        }
    )


def child_signal(child: Incident, active: bool, now: int) -> Signal:
    """A street incident as a signal of the district or city incident it is part of."""
    return Signal(
        key=f"incident:{child.id}",
        event_id=child.id,
        t=now,
        level=child.level,
        active=active,
        source="hub",
        type="incident",
        community=child.community,
        building=child.building,
        detail=f"{child.district}/{child.street}",
    )


def spread_to(
    aggregate: Incident | None,
    new_id: str,
    key: GroupKey,
    scope: IncidentScope,
    children: list[Incident],
    now: int,
) -> Incident | None:
    """The district or city incident ``aggregate`` (or a new one, ``new_id``) given the street
    incidents that now count toward it: one signal per street incident, those no longer
    counted kept inactive. ``None`` when nothing changes."""
    old = {s.key: s for s in aggregate.signals} if aggregate else {}
    new = {s.key: s for s in (child_signal(c, True, now) for c in children)}
    for k, s in old.items():
        if k not in new:
            new[k] = s if not s.active else s.model_copy(update={"active": False, "t": now})
        elif (s.level, s.active) == (new[k].level, True):
            new[k] = s
    signals = tuple(sorted(new.values(), key=lambda s: s.key))
    streets = {c.street for c in children if c.street} | set(aggregate.streets if aggregate else ())
    districts = {c.district for c in children} | set(aggregate.districts if aggregate else ())
    spans = {
        "signals": signals,
        "streets": tuple(sorted(streets)),
        "districts": tuple(sorted(districts)),
    }
    if aggregate is not None:
        if all(getattr(aggregate, f) == v for f, v in spans.items()):
            return None
        return aggregate.model_copy(update=spans)
    return Incident(
        id=new_id,
        key=key.text,
        hazard=key.hazard,
        scope=scope,
        district=key.district or min(districts),
        level=max(s.level for s in signals),
        opened_at=now,
        updated_at=now,
        **spans,
    )
