"""The audit trail: who did what to which incident, when, and through which channel.

The engine writes the life cycle (opened ... closed, ignored tests); the notifier writes what it
sent (notified, delivery_failed, escalated); the API writes refused acknowledgement links. One
row per fact, never updated: the trail is what a review after an incident reads (叫应: "sent,
delivered, answered").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["AuditAction", "AuditEntry"]


class AuditAction(StrEnum):
    OPENED = "opened"
    UPDATED = "updated"  # a signal raised, changed or cleared
    LEVEL_CHANGED = "level_changed"
    MUTED = "muted"  # opened inside a maintenance window: pages nobody
    NOTIFIED = "notified"
    DELIVERY_FAILED = "delivery_failed"
    ESCALATED = "escalated"  # paged the next tier (社区 → 街道 → 区)
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CLOSED = "closed"
    REPORT = "report"  # a responder's field report
    LINK_REFUSED = "link_refused"  # a refused ack link: forged, expired, reused or outdated
    IGNORED = "ignored"  # a test or self-test event: recorded, opens and pages nothing


@dataclass(frozen=True, slots=True)
class AuditEntry:
    t: int  # Unix ms, hub time
    incident_id: str | None  # None for a fact about no incident (a test event)
    action: AuditAction
    actor: str | None = None  # responder id, "auto", or None for the engine itself
    channel: str | None = None
    recipient: str | None = None
    detail: str = ""
