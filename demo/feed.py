"""What the demo shows, as events on the simulated clock: incidents, pages, the timeline.

``Feed`` is told from three places:

* ``incident_changed`` (a listener of the hub's ``Responding.changes``): an incident opened,
  changed level, was acknowledged, resolved or reopened; and so each street's level.
* ``poll`` (the hub's audit trail, read again): every page that went out (to whom, on which
  channel, at which level), every round that escalated to the next tier, every failed delivery.
* ``tick``: the scenario's timeline steps as their time comes.

``take`` hands over what happened since it was last called, oldest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from demo.steps import TimedStep
from demo.words import Names, span, tier
from hub.incidents.audit import AuditAction, AuditEntry
from hub.incidents.model import Incident, IncidentState
from hub.notify.escalation import detail_fields
from streetwatch.levels import Level


class Kind(StrEnum):
    STEP = "STEP"
    STREET = "STREET"
    OPENED = "OPENED"
    RAISED = "RAISED"
    LOWERED = "LOWERED"
    PAGE = "PAGE"
    FAILED = "FAILED"
    ESCALATED = "ESCALATED"
    ACK = "ACK"
    RESOLVED = "RESOLVED"
    REOPENED = "REOPENED"


@dataclass(frozen=True, slots=True)
class Event:
    t_ms: int  # simulated Unix ms
    kind: Kind
    text: str
    level: Level = Level.NONE
    incident: str | None = None


class AuditTrail(Protocol):
    async def audit(self, incident_id: str | None) -> list[AuditEntry]: ...


class Feed:
    def __init__(self, names: Names, steps: Sequence[TimedStep]) -> None:
        self.names = names
        self.steps = list(steps)
        self.incidents: dict[str, Incident] = {}
        self.street_levels: dict[str, Level] = {street: Level.NONE for _, street in names.streets}
        self._events: list[Event] = []
        self._audit_seen: dict[str, int] = {}
        self._warned: dict[str, tuple[int, Level]] = {}  # last opened or raised: when, to what
        self._paged: dict[tuple[str, str], int] = {}  # (incident, person) → last page
        self._paging: dict[str, Level] = {}  # the level of the incident's latest paging round
        self._acks: list[Incident] = []  # told in ``take``, once the pages before are read
        self._stepped = 0

    def take(self) -> list[Event]:
        self._events += [self._answered(incident) for incident in self._acks]
        self._acks.clear()
        events, self._events = sorted(self._events, key=lambda e: e.t_ms), []
        return events

    def current_step(self, now_ms: int) -> TimedStep | None:
        """The latest step that has begun (and has not ended) by ``now_ms``."""
        begun = [s for s in self.steps if s.start_ms <= now_ms]
        running = [s for s in begun if s.end_ms is None or s.end_ms > now_ms]
        return running[-1] if running else None

    def tick(self, now_ms: int) -> None:
        while self._stepped < len(self.steps) and self.steps[self._stepped].start_ms <= now_ms:
            step = self.steps[self._stepped]
            self._events.append(Event(step.start_ms, Kind.STEP, step.text))
            self._stepped += 1

    def incident_changed(self, incident: Incident) -> None:
        before = self.incidents.get(incident.id)
        self.incidents[incident.id] = incident
        self._audit_seen.setdefault(incident.id, 0)
        for kind, text in _changes(before, incident, self.names):
            if kind in (Kind.OPENED, Kind.RAISED, Kind.REOPENED):
                self._warned[incident.id] = (incident.updated_at, incident.level)
            if kind is Kind.ACK:
                self._acks.append(incident)
            else:
                event = Event(incident.updated_at, kind, text, incident.level, incident.id)
                self._events.append(event)
        self._update_streets(incident.updated_at)

    async def poll(self, trail: AuditTrail) -> None:
        """Read the new rows of every incident's audit trail."""
        for incident_id, seen in list(self._audit_seen.items()):
            entries = await trail.audit(incident_id)
            self._audit_seen[incident_id] = len(entries)
            for entry in entries[seen:]:
                event = self._paging_event(entry)
                if event is not None:
                    self._events.append(event)

    def _paging_event(self, entry: AuditEntry) -> Event | None:
        incident = self.incidents.get(entry.incident_id or "")
        if incident is None:
            return None
        fields = detail_fields(entry.detail)
        if entry.recipient is None and "level" in fields:  # a round of pages
            self._paging[incident.id] = Level(fields["level"])
        level = self._paging.get(incident.id, incident.level)
        what = self.names.what(incident)
        if entry.action is AuditAction.ESCALATED:
            text = f"no answer: {what} goes up to {tier(int(fields.get('tier', '1')))}"
            return Event(entry.t, Kind.ESCALATED, text, level, incident.id)
        if entry.channel is None or entry.recipient is None:
            return None  # a round, or a person no channel reached (its failures are shown)
        if entry.action is AuditAction.NOTIFIED:
            self._paged[(incident.id, entry.recipient)] = entry.t
            attempt = fields.get("attempt", "1")
            text = (f"{self.names.person(entry.recipient)} via {entry.channel}: {what} "
                    f"(attempt {attempt})")  # fmt: skip
            return Event(entry.t, Kind.PAGE, text, level, incident.id)
        if entry.action is AuditAction.DELIVERY_FAILED:
            why = entry.detail.split(":", 1)[-1].strip()
            text = f"{self.names.person(entry.recipient)} via {entry.channel} failed: {why}"
            return Event(entry.t, Kind.FAILED, text, level, incident.id)
        return None

    def _answered(self, incident: Incident) -> Event:
        """叫应: who answered, how long after their page and after the warning."""
        t, by = incident.acknowledged_at or incident.updated_at, incident.acknowledged_by
        what = self.names.what(incident)
        warned_at, level = self._warned.get(incident.id, (incident.opened_at, incident.level))
        paged_at = self._paged.get((incident.id, by or ""))
        after = f"{span(t - paged_at)} after their page, " if paged_at is not None else ""
        text = f"{self.names.person(by)} answered: {what} ({after}{span(t - warned_at)} after "
        return Event(t, Kind.ACK, f"{text}the {level} warning)", incident.level, incident.id)

    def _update_streets(self, t_ms: int) -> None:
        levels = dict.fromkeys(self.street_levels, Level.NONE)
        for incident in self.incidents.values():
            if not incident.active:
                continue
            for street in _streets_of(incident, self.names.streets):
                levels[street] = max(levels.get(street, Level.NONE), incident.level)
        for street, level in levels.items():
            before = self.street_levels.get(street, Level.NONE)
            if level != before:
                text = f"{self.names.places.get(street, street)}: {before} → {level}"
                self._events.append(Event(t_ms, Kind.STREET, text, level))
        self.street_levels = levels


def _changes(before: Incident | None, now: Incident, names: Names) -> list[tuple[Kind, str]]:
    what = names.what(now)
    if before is None:
        return [(Kind.OPENED, f"{what}, {now.level}")]
    out: list[tuple[Kind, str]] = []
    if now.level != before.level:
        kind = Kind.RAISED if now.level > before.level else Kind.LOWERED
        out.append((kind, f"{what}: {before.level} → {now.level}"))
    if now.state != before.state:
        match now.state:
            case IncidentState.ACKNOWLEDGED:
                out.append((Kind.ACK, ""))  # told by ``Feed._answered``
            case IncidentState.RESOLVED:
                out.append((Kind.RESOLVED, f"{what}, by {now.resolved_by or 'auto'}"))
            case IncidentState.OPEN:
                out.append((Kind.REOPENED, f"{what}, {now.level}"))
    return out


def _streets_of(incident: Incident, streets: Sequence[tuple[str, str]]) -> list[str]:
    if incident.street is not None:
        return [incident.street]
    if incident.streets:
        return list(incident.streets)
    return [s for d, s in streets if d == incident.district or d in incident.districts]
