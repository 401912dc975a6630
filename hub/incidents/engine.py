"""The incident engine: events in, incidents out, one change at a time.

Every mutation (an event, an acknowledgement, a resolve, a report, a timer) runs under one
``asyncio.Lock``, so two copies of the same alarm arriving together can never open two
incidents, and a resolve racing an acknowledgement is one before the other, never a reopen.

An acknowledgement answers the level it was given at (its audit entry says ``level=yellow``).
When an acknowledged incident's level then rises above that level (by a signal or a rule, on a
street, district or city incident) it is reopened: back to open, its acknowledgement cleared
(the trail keeps it, and the ``reopened`` entry names it), so the escalator pages the new
level. A rise that stays at or below the acknowledged level, a fall, or a change of a resolved
incident (which only a re-trigger reopens) leaves the state as it is.

Each change is saved (with its audit entries, in one transaction) before ``on_change(new,
previous)`` is awaited; ``on_change`` runs under the lock, so it must not call the engine back
(hand slow work, like paging, to a queue or task).

After a street incident changes, the other incidents of its street are evaluated again
(combination and escalate-during rules look across incidents), then the spread rule builds or
updates the district and city incidents. A background task resolves incidents whose signals
have been clear for ``resolve_after_s`` and closes those resolved for ``close_after_s``.

The working set (every incident not closed) is kept in memory and loaded from the store on
start; the caller opens the store (``async with``) before the engine and closes it after.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

from hub.events import HubEvent
from hub.fanout import Located
from hub.incidents import lifecycle as lc
from hub.incidents.audit import AuditAction, AuditEntry
from hub.incidents.config import IncidentsConfig, MaintenanceWindow, covering
from hub.incidents.grouping import (
    GroupKey,
    edge_key,
    edge_signal,
    hub_key,
    hub_signal,
    ignored,
    spread_targets,
)
from hub.incidents.lifecycle import IncidentClosedError
from hub.incidents.model import Incident, IncidentScope, IncidentState, ReportKind, Signal
from hub.incidents.rules import Verdict, evaluate
from hub.incidents.store import IncidentStore
from streetwatch.anomalies import Hazard
from streetwatch.clock import Clock, now_ms
from streetwatch.component import Component
from streetwatch.levels import Level
from streetwatch.messages import AnomalyEvent

__all__ = ["IncidentClosedError", "IncidentEngine", "OnChange", "UnknownIncidentError"]

log = logging.getLogger(__name__)
OnChange = Callable[[Incident, Incident | None], Awaitable[None]]
A = AuditAction


class UnknownIncidentError(LookupError):
    def __init__(self, incident_id: str) -> None:
        self.incident_id = incident_id
        super().__init__(f"no incident {incident_id!r}")


class IncidentEngine(Component):
    def __init__(
        self, config: IncidentsConfig, store: IncidentStore, *, clock: Clock, on_change: OnChange
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self._on_change = on_change
        self._lock = asyncio.Lock()
        self._live: dict[str, Incident] = {}  # grouping key → the incident not closed
        self._maintenance = list(config.maintenance)
        self._running = False

    async def start(self) -> None:
        async with self._lock:
            self._live = {i.key: i for i in await self.store.live()}
            self._running = True
        self.spawn(self._timers(), "timers")

    def add_maintenance(self, window: MaintenanceWindow) -> None:
        self._maintenance.append(window)

    async def on_edge_event(self, event: Located[AnomalyEvent]) -> Incident | None:
        """The incident the event joined or opened; ``None`` for a test or a clear of nothing."""
        e = event.message
        async with self._lock:
            now, key = self._now(), edge_key(event)
            if ignored(e):
                current = self._live.get(key.text)
                why = f"{e.type.value} {e.state.value} {e.gateway}/{e.sensor} ({e.id}): a test"
                incident_id = current.id if current else None
                await self.store.record(AuditEntry(now, incident_id, A.IGNORED, detail=why))
                return None
            window = covering(
                self._maintenance, now, event.street, event.community, e.gateway, e.sensor
            )
            return await self._signal(key, edge_signal(event, muted=bool(window)), window, now)

    async def on_hub_event(self, event: HubEvent) -> Incident | None:
        async with self._lock:
            now = self._now()
            window = covering(
                self._maintenance, now, event.street, event.community, event.gateway, event.sensor
            )
            signal = hub_signal(event, muted=bool(window))
            return await self._signal(hub_key(event), signal, window, now)

    async def acknowledge(self, incident_id: str, by: str) -> Incident:
        """Idempotent; an incident already resolved or closed is returned unchanged."""
        async with self._lock:
            current, now = await self._get(incident_id), self._now()
            new = lc.acknowledged(current, by, now)
            if new is None:
                return current
            new = lc.derived(new, self._verdict(new), now)  # the level being answered
            entry = AuditEntry(now, new.id, A.ACKNOWLEDGED, by, detail=_ack_detail(new.level))
            return await self._put(new, current, [entry], now)

    async def resolve(self, incident_id: str, by: str) -> Incident:
        async with self._lock:
            return await self._resolve(await self._get(incident_id), by, self._now())

    async def report(self, incident_id: str, by: str, kind: ReportKind, note: str = "") -> Incident:
        async with self._lock:
            current, now = await self._get(incident_id), self._now()
            new = lc.reported(current, by, kind, note, now)
            entry = AuditEntry(now, new.id, A.REPORT, by, detail=f"{kind.value}: {note}".strip())
            return await self._put(new, current, [entry], now)

    # -- inside the lock ---------------------------------------------------------------------

    async def _signal(
        self, key: GroupKey, signal: Signal, window: MaintenanceWindow | None, now: int
    ) -> Incident | None:
        current = self._live.get(key.text)
        what = f"{signal.type} {'raised' if signal.active else 'cleared'} {signal.key}"
        if current is None:
            if not signal.active:
                return None
            new_id = await self.store.next_id(now, self.config.id_prefix)
            new = lc.opened(new_id, key, signal, now)
            audit = [AuditEntry(now, new_id, A.OPENED, detail=f"{key.text}: {what}")]
            if window is not None:
                audit.append(AuditEntry(now, new_id, A.MUTED, detail=window.reason))
            new = await self._put(new, None, audit, now)
        else:
            changed = lc.with_signal(current, signal)
            if changed is None:
                return current
            new = await self._update(current, changed, f"{what} {signal.level.value}", now)
        await self._ripple(new, now)
        return new

    async def _update(self, current: Incident, changed: Incident, what: str, now: int) -> Incident:
        """Save ``changed`` (new signals of ``current``), reopening it if it is re-triggered."""
        audit = [AuditEntry(now, current.id, A.UPDATED, detail=what)]
        if current.state is IncidentState.RESOLVED and lc.retriggered(current, changed):
            changed = lc.reopened(changed)
            audit.append(AuditEntry(now, current.id, A.REOPENED, detail=what))
        if current.muted and not all(s.muted for s in changed.signals):
            audit.append(AuditEntry(now, current.id, A.UPDATED, detail="no longer muted"))
        return await self._put(changed, current, audit, now)

    async def _resolve(self, current: Incident, by: str, now: int) -> Incident:
        new = lc.resolved(current, by, now)
        if new is None:
            return current
        new = await self._put(new, current, [AuditEntry(now, new.id, A.RESOLVED, by)], now)
        await self._ripple(new, now)
        return new

    async def _put(
        self, new: Incident, previous: Incident | None, audit: list[AuditEntry], now: int
    ) -> Incident:
        """Derive level and flags, save with ``audit``, update the working set, tell."""
        if new.state is not IncidentState.CLOSED:
            new = lc.derived(new, self._verdict(new), now)
        if previous is not None and new.level != previous.level:
            how = f"{previous.level.value} → {new.level.value}"
            detail = f"{how} (rule {new.rule})" if new.rule else how
            audit.append(AuditEntry(now, new.id, A.LEVEL_CHANGED, detail=detail))
            acked = IncidentState.ACKNOWLEDGED
            if previous.state is acked and new.state is acked and new.level > previous.level:
                new = await self._past_acknowledgement(new, previous, audit, now)
        await self.store.save(new, audit)
        if new.state is IncidentState.CLOSED:
            self._live.pop(new.key, None)
        else:
            self._live[new.key] = new
        try:
            await self._on_change(new, previous)
        except Exception:
            log.exception("on_change failed for incident %s", new.id)
        return new

    async def _past_acknowledgement(
        self, new: Incident, previous: Incident, audit: list[AuditEntry], now: int
    ) -> Incident:
        """``new`` (acknowledged, its level risen from ``previous``) reopened if the level is
        above the one it was acknowledged at, with a ``reopened`` entry in ``audit`` naming
        that acknowledgement; else ``new`` as it is."""
        answered = await self._acknowledged_level(new) or previous.level
        reopened = lc.outgrew_acknowledgement(new, answered)
        if reopened is None:
            return new
        detail = (
            f"level rose {previous.level.value}→{new.level.value} "
            f"after acknowledgement by {new.acknowledged_by}"
        )
        if answered != previous.level:
            detail += f" at {answered.value}"
        audit.append(AuditEntry(now, new.id, A.REOPENED, detail=detail))
        return reopened

    async def _acknowledged_level(self, incident: Incident) -> Level | None:
        """The level of ``incident``'s last acknowledgement, from its trail (durable, so it
        holds across a restart); ``None`` if the entry does not say (written before it did):
        then any rise reopens, the side that pages rather than stays silent."""
        for entry in reversed(await self.store.audit(incident.id)):
            if entry.action == A.ACKNOWLEDGED:
                return _ack_level(entry.detail)
        return None

    def _verdict(self, incident: Incident) -> Verdict:
        return evaluate(self.config.rules, incident, self._street_of(incident))

    def _street_of(self, incident: Incident) -> Iterable[Incident]:
        return [
            i
            for i in self._live.values()
            if i.scope is IncidentScope.STREET
            and (i.district, i.street) == (incident.district, incident.street)
            and i.id != incident.id
        ]

    async def _ripple(self, changed: Incident, now: int) -> None:
        """Evaluate the street's other incidents again, then district and city incidents."""
        if changed.scope is not IncidentScope.STREET:
            return
        hazards = {changed.hazard}
        for other in list(self._street_of(changed)):
            if other.active and self._verdict(other) != Verdict(other.level, other.rule):
                hazards.add((await self._put(other, other, [], now)).hazard)
        for hazard in sorted(hazards):
            await self._spread(hazard, now)

    async def _spread(self, hazard: Hazard, now: int) -> None:
        rule = self.config.spread
        if rule is None:
            return
        for key, scope, children in spread_targets(rule, hazard, self._live.values()):
            current = self._live.get(key.text)
            if current is None and not children:
                continue
            new_id = current.id if current else await self.store.next_id(now, self.config.id_prefix)
            new = lc.spread_to(current, new_id, key, scope, children, now)
            what = f"{scope.value} incident: {len(children)} street incidents count"
            if new is not None and current is not None:
                await self._update(current, new, what, now)
            elif new is not None:
                await self._put(new, None, [AuditEntry(now, new.id, A.OPENED, detail=what)], now)

    # -- timers ------------------------------------------------------------------------------

    async def _timers(self) -> None:
        while True:
            await self.clock.sleep(self.config.check_interval_s)
            async with self._lock:
                await self._sweep(self._now())

    async def _sweep(self, now: int) -> None:
        self._maintenance = [w for w in self._maintenance if w.until_ms > now]
        resolve_ms = self.config.resolve_after_s * 1000
        close_ms = self.config.close_after_s * 1000
        for key in list(self._live):
            i = self._live.get(key)  # an earlier step may have changed or closed it
            if i is None:
                continue
            if i.active and i.all_clear_at is not None and now - i.all_clear_at >= resolve_ms:
                await self._resolve(i, "auto", now)
            elif i.state is IncidentState.RESOLVED and now - (i.resolved_at or now) >= close_ms:
                entry = AuditEntry(now, i.id, A.CLOSED, "auto")
                await self._put(lc.closed(i, now), i, [entry], now)

    # -- helpers -----------------------------------------------------------------------------

    def _now(self) -> int:
        if not self._running:
            raise RuntimeError("the incident engine is not running: use `async with`")
        return now_ms(self.clock)

    async def _get(self, incident_id: str) -> Incident:
        found = next((i for i in self._live.values() if i.id == incident_id), None)
        found = found or await self.store.get(incident_id)
        if found is None:
            raise UnknownIncidentError(incident_id)
        return found


def _ack_detail(level: Level) -> str:
    return f"level={level.value}"


def _ack_level(detail: str) -> Level | None:
    key, _, value = detail.partition("=")
    if key != "level" or value not in {level.value for level in Level}:
        return None
    return Level(value)
