"""What an incident is: the values the engine, the store, the notifier and the API share.

An incident groups the events of one situation: one hazard at one place of one street (or, when
it spreads, of a district or the city). Its level is the highest level of its active signals,
raised by correlation rules. Its life cycle::

    open ──ack──▶ acknowledged ──resolve──▶ resolved ──(after close_after)──▶ closed
      └───────────────resolve (auto or by a responder)──────▶ resolved

A resolve racing an acknowledgement never reopens it; a re-trigger of a resolved (not yet
closed) incident reopens it as open; a closed incident is never reopened (a new one starts).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from streetwatch.anomalies import AnomalyType, Hazard
from streetwatch.ids import Slug
from streetwatch.kinds import KindName
from streetwatch.levels import Level


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class IncidentState(StrEnum):
    OPEN = "open"  # not yet acknowledged: pages go out
    ACKNOWLEDGED = "acknowledged"  # someone answered (叫应): pages stop
    RESOLVED = "resolved"  # over (all clear for long enough, or a responder said so)
    CLOSED = "closed"  # archived; a new trigger opens a new incident


class IncidentScope(StrEnum):
    STREET = "street"  # the street office (街道) responds
    DISTRICT = "district"  # spans streets: the district (区) takes over
    CITY = "city"  # spans districts


class ReportKind(StrEnum):
    ON_SITE = "on_site"  # 已到场
    CONFIRMED = "confirmed"  # 确认险情
    FALSE_ALARM = "false_alarm"  # 误报
    NEEDS_SUPPORT = "needs_support"  # 请求支援


class FieldReport(_Frozen):
    t: int = Field(description="Unix ms.")
    by: str = Field(description="Responder id.")
    kind: ReportKind
    note: str = Field("", max_length=2000)


class Signal(_Frozen):
    """One source's latest word inside an incident: an edge anomaly or a hub presence event."""

    key: str = Field(description="Stable per source: sensor+type+metric, or the hub event's.")
    event_id: str
    t: int = Field(description="Unix ms of the transition at the source.")
    level: Level
    active: bool = Field(description="Raised and not cleared.")
    source: str = Field(description="'edge' or 'hub'.")
    type: str = Field(description="AnomalyType or HubEventType value.")
    community: Slug | None = None
    gateway: Slug | None = None
    sensor: Slug | None = None
    kind: KindName | None = None
    building: Slug | None = None
    floor: int | None = None
    metric: str | None = None
    value: float | bool | None = None
    threshold: float | None = None
    detail: str = ""
    muted: bool = Field(False, description="Arrived inside a maintenance window.")


class Incident(_Frozen):
    id: str
    key: str = Field(description="The grouping key: what makes two events the same incident.")
    hazard: Hazard
    scope: IncidentScope = IncidentScope.STREET
    district: Slug
    street: Slug | None = Field(None, description="None once it spans several streets.")
    community: Slug | None = None
    building: Slug | None = None
    level: Level
    rule: str | None = Field(None, description="The correlation rule that set the level.")
    state: IncidentState = IncidentState.OPEN
    muted: bool = Field(False, description="Inside a maintenance window: recorded, pages nobody.")
    opened_at: int
    updated_at: int
    acknowledged_at: int | None = None
    acknowledged_by: str | None = None
    resolved_at: int | None = None
    resolved_by: str | None = Field(None, description="A responder id, or 'auto'.")
    closed_at: int | None = None
    all_clear_at: int | None = Field(
        None, description="Hub time (Unix ms) its last active signal cleared; None while any is."
    )
    signals: tuple[Signal, ...] = ()
    reports: tuple[FieldReport, ...] = ()
    streets: tuple[Slug, ...] = Field((), description="Streets it spans (district and city).")
    districts: tuple[Slug, ...] = Field((), description="Districts it spans (city).")

    @property
    def active(self) -> bool:
        return self.state in (IncidentState.OPEN, IncidentState.ACKNOWLEDGED)

    def anomaly_types(self) -> set[str]:
        return {s.type for s in self.signals if s.active}


PAGING_TYPES = frozenset(t.value for t in AnomalyType if t.pages_responders)
