"""The ``incidents`` section of hub.yaml: life-cycle timers, correlation rules, maintenance.

incidents:
  resolve_after_s: 600
  rules:                      # replaces the defaults entirely when given
    - {kind: count, name: smoke_in_building, kinds: [smoke], min_level: orange,
       at_least: 2, level: red}
  maintenance:
    - {scope: community, ids: [lianyang], until: "2026-11-23T18:00:00+08:00",
       reason: "replacing smoke detectors, ticket 4711"}
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from hub.incidents.rules import DEFAULT_RULES, RuleConfig, SpreadRule
from streetwatch.config import Section
from streetwatch.ids import Slug

__all__ = ["IncidentsConfig", "MaintenanceWindow", "covering"]

MaintenanceScope = Literal["sensor", "gateway", "community", "street"]


class MaintenanceWindow(Section):
    """Events from these places are recorded (muted) but page nobody until ``until``."""

    scope: MaintenanceScope = Field(description="What the ids name.")
    ids: list[Slug] = Field(min_length=1, max_length=10_000, description="Sensor, gateway... ids.")
    until: datetime | int = Field(
        description="End: ISO 8601 with a time zone (2026-11-23T18:00:00+08:00) or Unix ms."
    )
    reason: str = Field(min_length=1, max_length=500, description="Why; shown in the audit.")

    @field_validator("until")
    @classmethod
    def _aware(cls, value: datetime | int) -> datetime | int:
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError("give the time zone, e.g. 2026-11-23T18:00:00+08:00")
        if isinstance(value, int) and not 0 <= value < 2**53:
            raise ValueError("Unix ms must be between 0 and 2**53")
        return value

    @property
    def until_ms(self) -> int:
        if isinstance(self.until, int):
            return self.until
        return int(self.until.timestamp() * 1000)

    def covers(
        self,
        now_ms: int,
        *,
        street: str | None = None,
        community: str | None = None,
        gateway: str | None = None,
        sensor: str | None = None,
    ) -> bool:
        place = {"sensor": sensor, "gateway": gateway, "community": community, "street": street}
        return now_ms < self.until_ms and place[self.scope] in self.ids


def covering(
    windows: Iterable[MaintenanceWindow],
    now_ms: int,
    street: str,
    community: str | None,
    gateway: str | None,
    sensor: str | None,
) -> MaintenanceWindow | None:
    """The first of ``windows`` that mutes, at ``now_ms``, an event from this place."""
    place = {"street": street, "community": community, "gateway": gateway, "sensor": sensor}
    return next((w for w in windows if w.covers(now_ms, **place)), None)


class IncidentsConfig(Section):
    id_prefix: str = Field(
        "I",
        pattern=r"^[A-Z]{1,6}$",
        description="Incident ids are PREFIX-YYYYMMDD-NNNN (Beijing date); give each hub its own.",
    )
    resolve_after_s: float = Field(
        600,
        ge=0,
        le=7 * 86400,
        description="An incident whose signals have all cleared for this long resolves itself.",
    )
    close_after_s: float = Field(
        86400,
        ge=60,
        le=366 * 86400,
        description="A resolved incident closes (is archived) after this long; until then a new "
        "trigger reopens it, after it a new incident starts.",
    )
    check_interval_s: float = Field(
        10, gt=0, le=3600, description="How often the timers above are checked."
    )
    rules: list[RuleConfig] = Field(
        default_factory=lambda: list(DEFAULT_RULES),
        max_length=1000,
        description="Correlation rules (see hub/incidents/rules.py); replaces the defaults.",
    )
    maintenance: list[MaintenanceWindow] = Field(
        default_factory=list, max_length=10_000, description="Maintenance windows."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        names = [r.name for r in self.rules]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"rule names must be unique; twice: {', '.join(twice)}")
        if sum(isinstance(r, SpreadRule) for r in self.rules) > 1:
            raise ValueError("at most one spread rule")
        return self

    @property
    def spread(self) -> SpreadRule | None:
        return next((r for r in self.rules if isinstance(r, SpreadRule)), None)
