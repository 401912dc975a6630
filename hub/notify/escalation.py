"""叫应: page the people responsible for an open incident until one of them answers.

An open, unmuted incident at a level with a policy is paged in rounds (``LevelPolicy.tier_at``):
tier 0 at once, re-sent ``renotify`` times every ``ack_timeout_s``, then one more tier per
timeout (the tiers already reached are paged again each time), then every tier each timeout. A
tier with nobody for the incident is skipped at once. A level raise re-plans with the new
policy from the tier already reached and pages at once; a drop re-plans without an extra page.
Acknowledged, resolved, closed, muted, or a level without a policy stops everything at once.

Tasks: one timer task per paged incident (``page:<incident>``) sleeps on the clock until its
next round; a round starts one task per person (``send:<incident>:<person>``) that walks the
person's ``contact`` channels: a failed delivery tries the next channel after
``fallback_delay_s`` (at once if it is not retryable). So a slow or failing channel holds up
neither the other people nor the timer. Stopping sets the incident's stop event: a send in
flight completes and is recorded, nothing new goes out.

Audit, in the shared trail's words (the engine records level changes, acks and the rest): each
round is ``notified`` (or ``escalated`` when it reaches a new tier) without a recipient, detail
``level=red round=2 tier=1 people=3`` (`` skipped=0`` for a tier with nobody); each channel
tried is ``notified`` or ``delivery_failed`` with channel, recipient and ``attempt=2 tier=0:
<the channel's detail>``; a person no channel reached, ``delivery_failed`` without a channel.
``resume`` reads the last round back (after the last ``reopened``) to go on where paging was: an
answered incident is not paged again, a round sent before the restart is not repeated before
its timeout.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from hub.incidents.model import Incident, IncidentState
from hub.notify.base import Delivery, Language, Message, Notification, Sender
from hub.notify.config import LevelPolicy, NotifyConfig, Responder
from hub.notify.roster import Roster
from streetwatch.clock import Clock, now_ms, wait_event
from streetwatch.component import Component
from streetwatch.levels import Level

__all__ = [
    "AuditLog",
    "AuditRecord",
    "Escalator",
    "LinkMaker",
    "PageAction",
    "PageRecord",
    "PendingPage",
    "Renderer",
    "detail_fields",
]


class PageAction(StrEnum):
    """What the escalator writes: values of the shared trail's ``AuditAction``."""

    NOTIFIED = "notified"  # a round (no recipient), or a delivery that went through
    DELIVERY_FAILED = "delivery_failed"  # one channel failed; without a channel: every one did
    ESCALATED = "escalated"  # a round that reached a new tier (no recipient)


log = logging.getLogger(__name__)
_ROUNDS = {PageAction.NOTIFIED, PageAction.ESCALATED}
_RESTART = "reopened"  # the trail's: re-triggered after a resolve, or risen after an ack


class AuditRecord(Protocol):
    """What ``resume`` reads back of an audit entry (``t`` in Unix ms)."""

    @property
    def t(self) -> int: ...
    @property
    def action(self) -> str: ...
    @property
    def recipient(self) -> str | None: ...
    @property
    def detail(self) -> str: ...


class AuditLog(Protocol):
    async def record(self, entry: PageRecord) -> None: ...

    async def audit(self, incident_id: str) -> Sequence[AuditRecord]: ...


class Renderer(Protocol):
    def __call__(self, incident: Incident, *, language: Language, ack_url: str) -> Message: ...


LinkMaker = Callable[[str, str, Level], str]
"""(incident id, responder id, the level the message tells) -> signed ack URL."""


@dataclass(frozen=True, slots=True)
class PageRecord:
    t: int
    incident_id: str
    action: str
    actor: str | None = None  # the hub itself
    channel: str | None = None
    recipient: str | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PendingPage:
    incident_id: str
    level: Level
    tier: int  # highest tier reached
    rounds: int  # rounds sent (the next one is round number ``rounds``)
    next_at: float  # clock time of the next round


@dataclass(eq=False)
class _Paging:
    incident: Incident
    policy: LevelPolicy
    rounds: int = 0
    reached: int = -1
    next_at: float = 0.0
    last_at: float = 0.0
    attempts: dict[str, int] = field(default_factory=dict)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def replan(self, policy: LevelPolicy, raised: bool, now: float) -> None:
        """Go on under ``policy`` from the tier reached: at once if the level rose, else one
        timeout after the last round. Before the first round nothing changes but the policy."""
        self.policy = policy
        if self.reached >= 0:
            self.reached = min(self.reached, len(policy.tiers) - 1)
            self.rounds = policy.first_round_of(self.reached) + (0 if raised else 1)
            self.next_at = now if raised else self.last_at + policy.ack_timeout_s


class Escalator(Component):
    """Pages responders until an incident is answered; enters and closes ``senders``."""

    def __init__(
        self,
        config: NotifyConfig,
        senders: Mapping[str, Sender],
        *,
        clock: Clock,
        audit: AuditLog,
        render: Renderer,
        link: LinkMaker,
    ) -> None:
        self._config, self._senders, self._clock = config, senders, clock
        self._audit, self._render, self._link = audit, render, link
        self._roster = Roster(config.responders)
        self._pagings: dict[str, _Paging] = {}

    async def start(self) -> None:
        for sender in self._senders.values():
            await self.enter(sender)

    def pending(self) -> list[PendingPage]:
        return [
            PendingPage(i, p.incident.level, max(p.reached, 0), p.rounds, p.next_at)
            for i, p in self._pagings.items()
        ]

    async def incident_changed(self, incident: Incident, previous: Incident | None) -> None:
        """Start, re-plan or stop paging ``incident``; call on every change. ``previous`` is
        accepted for the engine's convenience: paging compares with what it paged last."""
        p = self._pagings.get(incident.id)
        policy = self._policy(incident)
        if policy is None:
            if p is not None:
                self._stop(incident.id)
        elif p is None:  # attempts go on counting: a reopened incident's pages are new ones
            attempts = _attempts(await self._trail(incident.id))
            self._begin(_Paging(incident, policy, next_at=self._clock.now(), attempts=attempts))
        elif incident.level != p.incident.level:
            raised = incident.level > p.incident.level
            p.incident = incident
            p.replan(policy, raised, self._clock.now())
            p.wake.set()
        else:
            p.incident = incident

    async def resume(self, active: Sequence[Incident]) -> None:
        """After a restart: continue paging the open incidents from their audit trail."""
        for incident in active:
            policy = self._policy(incident)
            if policy is None or incident.id in self._pagings:
                continue
            trail = await self._trail(incident.id)
            restarts = [i for i, e in enumerate(trail) if e.action == _RESTART]
            entries = trail[restarts[-1] + 1 :] if restarts else trail
            p = _Paging(incident, policy, next_at=self._clock.now(), attempts=_attempts(trail))
            last = _last_round(entries)
            if last is not None:
                level, r, p.reached, p.last_at = last
                p.replan(policy, incident.level > level, self._clock.now())
                if level == incident.level:
                    p.rounds = r + 1
            self._begin(p)

    # -- internals ----------------------------------------------------------------------------

    async def _trail(self, incident_id: str) -> list[AuditRecord]:
        try:
            return sorted(await self._audit.audit(incident_id), key=lambda e: e.t)
        except Exception:  # a broken audit log must not stop the warnings
            log.exception("could not read the audit trail of %s", incident_id)
            return []

    def _policy(self, incident: Incident) -> LevelPolicy | None:
        if incident.state is not IncidentState.OPEN or incident.muted:
            return None
        return self._config.policy.get(incident.level)

    def _begin(self, p: _Paging) -> None:
        self._pagings[p.incident.id] = p
        self.spawn(self._run(p), name=f"page:{p.incident.id}")

    def _stop(self, incident_id: str) -> None:
        p = self._pagings.pop(incident_id)
        p.stop.set()
        p.wake.set()

    async def _run(self, p: _Paging) -> None:
        while not p.stop.is_set():
            delay = p.next_at - self._clock.now()
            if delay > 0 and await wait_event(self._clock, p.wake, delay):
                p.wake.clear()
                continue
            await self._round(p)

    async def _round(self, p: _Paging) -> None:
        now, incident, policy = self._clock.now(), p.incident, p.policy
        r, last = p.rounds, len(policy.tiers) - 1
        skipped = ""
        while True:  # a tier with nobody for this incident is skipped at once
            tier = policy.tier_at(r)
            crews = [self._roster.tier(incident, roles, now) for roles in policy.tiers[: tier + 1]]
            if crews[tier] or tier == last or tier <= p.reached:
                break
            skipped, r = f"{skipped} skipped={tier}", policy.first_round_of(tier + 1)
        action = PageAction.ESCALATED if tier > max(p.reached, 0) else PageAction.NOTIFIED
        p.rounds, p.reached = r + 1, max(tier, p.reached)
        p.last_at, p.next_at = now, now + policy.ack_timeout_s
        people = [(k, person) for k, crew in enumerate(crews) for person in crew]
        for k, person in people:  # first: a slow audit log must not hold up the pages
            p.attempts[person.id] = attempt = p.attempts.get(person.id, 0) + 1
            name = f"send:{incident.id}:{person.id}"
            self.spawn(self._reach(p, incident, person, k, attempt), name=name)
        detail = f"level={incident.level} round={r} tier={tier} people={len(people)}{skipped}"
        await self._record(incident.id, action, detail=detail)

    async def _reach(
        self, p: _Paging, incident: Incident, person: Responder, tier: int, attempt: int
    ) -> None:
        ack_url = self._link(incident.id, person.id, incident.level)  # the level rendered
        message = self._render(incident, language=person.language, ack_url=ack_url)
        note = Notification(incident, person.recipient(), message, attempt=attempt, tier=tier)
        tag = f"attempt={attempt} tier={tier}"
        for i, channel in enumerate(person.contact):
            if p.stop.is_set():
                return
            delivery = await self._deliver(channel, note)
            action = PageAction.NOTIFIED if delivery.ok else PageAction.DELIVERY_FAILED
            detail = f"{tag}: {delivery.detail}" if delivery.detail else tag
            await self._record(
                incident.id, action, channel=channel, recipient=person.id, detail=detail
            )
            if delivery.ok:
                return
            more = i + 1 < len(person.contact)
            delay = p.policy.fallback_delay_s if delivery.retryable else 0.0
            if more and await wait_event(self._clock, p.stop, delay):
                return
        if not p.stop.is_set():
            detail = f"{tag}: no channel reached them"
            await self._record(
                incident.id, PageAction.DELIVERY_FAILED, recipient=person.id, detail=detail
            )

    async def _deliver(self, channel: str, note: Notification) -> Delivery:
        sender = self._senders.get(channel)
        if sender is None:
            return Delivery(False, channel, "no such channel is configured", retryable=False)
        try:
            return await sender.send(note)
        except Exception as exc:  # a channel's bug must not stop the other pages
            return Delivery(False, channel, f"{type(exc).__name__}: {exc}")

    async def _record(self, incident: str, action: PageAction, **fields: str) -> None:
        entry = PageRecord(now_ms(self._clock), incident, action.value, **fields)
        try:
            await self._audit.record(entry)
        except Exception:  # a broken audit log must not stop the warnings
            log.exception("could not write to the audit trail: %s", entry)


def _attempts(entries: Sequence[AuditRecord]) -> dict[str, int]:
    """Per recipient, the last attempt the trail shows, across reopenings: every page of an
    incident has its own delivery id (incident:recipient:attempt), which receivers dedupe on."""
    attempts: dict[str, int] = {}
    for e in entries:
        n = detail_fields(e.detail).get("attempt", "")
        if e.recipient is not None and n.isdigit():
            attempts[e.recipient] = max(attempts.get(e.recipient, 0), int(n))
    return attempts


def _last_round(entries: Sequence[AuditRecord]) -> tuple[Level, int, int, float] | None:
    """(level, round, tier, time in s) of the last round in ``entries``; None if none."""
    for e in reversed(entries):
        if e.action in _ROUNDS and e.recipient is None:
            f = detail_fields(e.detail)
            try:
                return Level(f["level"]), int(f["round"]), int(f["tier"]), e.t / 1000
            except (KeyError, ValueError):
                continue  # not a round written by the escalator
    return None


def detail_fields(detail: str) -> dict[str, str]:
    """``"level=red round=2 tier=1: text"`` → ``{"level": "red", "round": "2", "tier": "1"}``."""
    return dict(part.split("=", 1) for part in detail.split(":", 1)[0].split() if "=" in part)
