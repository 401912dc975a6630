"""The escalator's audit log, also written to the time series: a ``page`` point per entry.

``PageLog`` wraps the trail the escalator writes to (``hub.responders.StoreAudit``) and leaves
the escalator as it is. Each entry (a round ``notified``/``escalated``, a delivery ``notified``
or ``delivery_failed``) goes to the trail first, the record a review reads (叫应: "sent,
delivered, answered"); then, with its incident's place, hazard and level and the recipient's
role, to the ``page`` measurement, so that dashboards can count pages and failed deliveries by
street, level and channel. A point that cannot be written is logged and never holds up a page.

A point is keyed by its tags and time, and ``page`` has no recipient tag: one round reaching
three people through one channel in the same millisecond would be stored as one point. So an
entry whose tags already have a point at its time, or later, is moved on a millisecond past it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

from hub.incidents.model import Incident
from hub.notify.escalation import AuditLog, AuditRecord, PageRecord
from hub.storage.base import Point
from hub.storage.hub_points import page_points

__all__ = ["PageLog"]

log = logging.getLogger(__name__)

Write = Callable[[Sequence[Point]], Awaitable[None]]
FindIncident = Callable[[str], Awaitable[Incident | None]]


class PageLog:
    """An ``AuditLog`` for the escalator: ``trail`` first, then the ``page`` point."""

    def __init__(
        self,
        trail: AuditLog,
        *,
        incident: FindIncident,
        roles: Mapping[str, str],
        write: Write,
    ) -> None:
        self._trail = trail
        self._incident = incident
        self._roles = roles  # responder id → role (the recipient's tier)
        self._write = write
        self._last: dict[tuple[tuple[str, str], ...], int] = {}  # latest time per tag set

    async def record(self, entry: PageRecord) -> None:
        await self._trail.record(entry)
        try:
            incident = await self._incident(entry.incident_id)
            if incident is None:
                log.warning("page of unknown incident %s not written to the time series", entry)
                return
            role = self._roles.get(entry.recipient) if entry.recipient is not None else None
            await self._write([self._unique(p) for p in page_points(entry, incident, role)])
        except Exception:  # the trail has it; a dashboard point must not stop the warnings
            log.exception("page not written to the time series: %s", entry)

    async def audit(self, incident_id: str) -> Sequence[AuditRecord]:
        return await self._trail.audit(incident_id)

    def _unique(self, point: Point) -> Point:
        last = self._last.get(point.tags)
        t = point.time_ms if last is None else max(point.time_ms, last + 1)
        self._last[point.tags] = t
        return point if t == point.time_ms else point._replace(time_ms=t)
