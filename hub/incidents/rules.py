"""Correlation rules as data: what raises an incident above its highest signal.

A rule is a record in config (``incidents.rules`` of hub.yaml), a discriminated union on
``kind``:

* ``count``: at least N distinct sensors of the given kinds (types, metric, side) at or above a
  level among the incident's active signals, so within its building or street → ``level``.
* ``combination``: every one of the kinds active in one building (across incidents: smoke in
  the fire incident, gas in the gas incident) → each of those incidents at ``level``.
* ``escalate_during``: an incident of hazard ``hazard`` (with a signal of ``types``) while one
  of hazard ``during`` is active in the same street → ``level`` (a street cut off in a flood).
* ``spread``: street incidents of one hazard in ≥ ``streets`` streets of a district make a
  district incident; in ≥ ``districts`` districts a city incident (the engine builds them).

An incident's level is the highest of its active signals and of the rules that fire; its
``rule`` names the rule when a rule set the level. Muted signals (maintenance) count only in an
incident made of nothing else, and never in another incident's rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from hub.events import HubEventType
from hub.incidents.model import Incident, IncidentScope, Signal
from streetwatch.anomalies import AnomalyType, Hazard
from streetwatch.config import Section
from streetwatch.ids import Slug
from streetwatch.kinds import KindName
from streetwatch.levels import Level

__all__ = [
    "DEFAULT_RULES",
    "CombinationRule",
    "CountRule",
    "EscalateDuringRule",
    "RuleConfig",
    "SpreadRule",
    "Verdict",
    "counted",
    "evaluate",
]

SIGNAL_TYPES = frozenset({*AnomalyType, *HubEventType})


class _Rule(Section):
    name: Slug = Field(description="Named in the incident's `rule` field when it sets the level.")
    level: Level = Field(description="The incident's level when the rule fires (blue to red).")

    @model_validator(mode="after")
    def _warning_level(self) -> Self:
        if self.level is Level.NONE:
            raise ValueError("a rule's level must be a warning level: blue, yellow, orange or red")
        return self


class CountRule(_Rule):
    kind: Literal["count"] = "count"
    kinds: list[KindName] = Field(min_length=1, description="Sensor kinds that count.")
    types: list[AnomalyType] = Field(
        default_factory=list, description="Anomaly types that count; empty: any."
    )
    metric: str | None = Field(None, max_length=32, description="Only signals of this metric.")
    side: Literal["below", "above"] | None = Field(
        None, description="Only signals whose value is below (or above) their threshold."
    )
    min_level: Level = Field(Level.BLUE, description="Only signals at or above this level.")
    at_least: int = Field(ge=2, le=10_000, description="Distinct sensors needed.")


class CombinationRule(_Rule):
    kind: Literal["combination"] = "combination"
    kinds: list[KindName] = Field(min_length=2, description="All active in one building.")
    min_level: Level = Field(Level.BLUE, description="Only signals at or above this level.")


class EscalateDuringRule(_Rule):
    kind: Literal["escalate_during"] = "escalate_during"
    during: Hazard = Field(description="While an incident of this hazard is active...")
    hazard: Hazard = Field(description="...an incident of this hazard in the same street...")
    types: list[str] = Field(
        default_factory=list,
        description="...with an active signal of one of these types (empty: any) rises.",
    )

    @model_validator(mode="after")
    def _known_types(self) -> Self:
        unknown = sorted(set(self.types) - SIGNAL_TYPES)
        if unknown:
            known = ", ".join(sorted(SIGNAL_TYPES))
            raise ValueError(f"unknown signal type {', '.join(unknown)}; known: {known}")
        return self


class SpreadRule(Section):
    kind: Literal["spread"] = "spread"
    name: Slug = Field("spread", description="Named in the district and city incidents.")
    hazards: list[Hazard] = Field(description="Hazards whose incidents can spread.")
    min_level: Level = Field(Level.YELLOW, description="Street incidents below this don't count.")
    streets: int = Field(2, ge=2, le=1000, description="Streets of one district → district.")
    districts: int = Field(2, ge=2, le=1000, description="Districts → city.")


RuleConfig = Annotated[
    CountRule | CombinationRule | EscalateDuringRule | SpreadRule, Field(discriminator="kind")
]

DEFAULT_RULES: list[RuleConfig] = [
    # DOMAIN.md: one detector in alarm = orange; two or more in one building = red.
    CountRule(
        name="smoke_in_building",
        kinds=[KindName.SMOKE],
        min_level=Level.ORANGE,
        at_least=2,
        level=Level.RED,
    ),
    # DOMAIN.md: smoke plus gas (in one building) = red.
    CombinationRule(
        name="smoke_and_gas",
        kinds=[KindName.SMOKE, KindName.GAS],
        min_level=Level.YELLOW,
        level=Level.RED,
    ),
    # Water at orange at two points of a street is a street flood (red at any red point: max).
    CountRule(
        name="street_flood",
        kinds=[KindName.WATER_LEVEL],
        min_level=Level.ORANGE,
        at_least=2,
        level=Level.ORANGE,
    ),
    # DOMAIN.md: a burst main is a sharp drop below 0.14 MPa at several neighbouring hydrants.
    CountRule(
        name="suspected_main_burst",
        kinds=[KindName.HYDRANT],
        types=[AnomalyType.THRESHOLD],
        metric="pressure",
        side="below",
        min_level=Level.YELLOW,
        at_least=2,
        level=Level.ORANGE,
    ),
    # A street (or community) cut off while it floods: nobody can see the water rise.
    EscalateDuringRule(
        name="cut_off_during_flood",
        during=Hazard.FLOOD,
        hazard=Hazard.DEVICE,
        types=[HubEventType.AREA_OUTAGE.value],
        level=Level.RED,
    ),
    SpreadRule(hazards=[Hazard.FLOOD, Hazard.WATER_SUPPLY, Hazard.DEVICE]),
]


@dataclass(frozen=True, slots=True)
class Verdict:
    level: Level
    rule: str | None


def counted(incident: Incident) -> list[Signal]:
    """The active signals that set the level: unmuted ones, or the muted if that is all."""
    active = [s for s in incident.signals if s.active]
    return [s for s in active if not s.muted] or active


def evaluate(
    rules: Sequence[RuleConfig], incident: Incident, neighbours: Iterable[Incident]
) -> Verdict:
    """The level of an incident given the other live incidents of its street. A district or
    city incident is as high as its highest active street incident (the spread rule's)."""
    pool = counted(incident)
    if incident.scope is not IncidentScope.STREET:
        spread = next((r.name for r in rules if isinstance(r, SpreadRule)), None)
        return Verdict(max((s.level for s in pool), default=incident.level), spread)
    if not pool:  # all clear: keep the level it had until it resolves
        return Verdict(incident.level, incident.rule)
    others = [n for n in neighbours if n.id != incident.id and n.active and not n.muted]
    level = max(s.level for s in pool)
    best: _Rule | None = None
    for rule in rules:
        if isinstance(rule, SpreadRule):
            continue
        if _fires(rule, incident, pool, others) and (best is None or rule.level > best.level):
            best = rule
    if best is not None and best.level >= level:
        return Verdict(best.level, best.name)
    return Verdict(level, None)


def _fires(
    rule: CountRule | CombinationRule | EscalateDuringRule,
    incident: Incident,
    pool: list[Signal],
    others: list[Incident],
) -> bool:
    if isinstance(rule, CountRule):
        sensors = {(s.gateway, s.sensor) for s in pool if _counts(rule, s)}
        return len(sensors) >= rule.at_least
    if isinstance(rule, CombinationRule):
        if incident.building is None or not any(s.kind in rule.kinds for s in pool):
            return False
        place = _building(incident)
        signals = [*pool, *(s for n in others if _building(n) == place for s in _unmuted(n))]
        return all(
            any(s.kind is k and s.level >= rule.min_level for s in signals) for k in rule.kinds
        )
    if isinstance(rule, EscalateDuringRule):
        return (
            incident.hazard is rule.hazard
            and (not rule.types or any(s.type in rule.types for s in pool))
            and any(
                n.hazard is rule.during and (n.district, n.street) == _street(incident)
                for n in others
            )
        )
    return False


def _counts(rule: CountRule, s: Signal) -> bool:
    if s.kind not in rule.kinds or s.level < rule.min_level:
        return False
    if (rule.types and s.type not in rule.types) or (rule.metric and s.metric != rule.metric):
        return False
    if rule.side is None:
        return True
    if isinstance(s.value, bool) or s.value is None or s.threshold is None:
        return False
    return s.value <= s.threshold if rule.side == "below" else s.value >= s.threshold


def _unmuted(incident: Incident) -> list[Signal]:
    return [s for s in incident.signals if s.active and not s.muted]


def _street(i: Incident) -> tuple[str, str | None]:
    return (i.district, i.street)


def _building(i: Incident) -> tuple[str, str | None, str | None, str | None]:
    return (i.district, i.street, i.community, i.building)
