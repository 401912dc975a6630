"""What every detector shares: the ``Finding`` it emits, its interface, and the registry.

A detector watches one thing about one sensor (a threshold rule, a rate rule, a flag...) and
owns one *key*: at most one anomaly per key is active at a time. It reports transitions only,
one ``Finding`` per transition, never a stream: raised (or moved to another level or type while
raised, which is another RAISED finding on the same key) and cleared.

Detectors register by name in ``DETECTORS``; each factory gets the sensor's config and a live,
read-only view of the monitor's active anomalies (the rate detector reads the threshold
level from it) and returns the detectors that apply to that sensor, possibly none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from edge.config import SensorConfig
from streetwatch.anomalies import AnomalyType
from streetwatch.levels import Level
from streetwatch.messages import EventState, Reading

__all__ = ["DETECTORS", "Detector", "Factory", "Finding", "register"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One transition of one detector, ready to become an ``AnomalyEvent``.

    ``level`` of a CLEARED finding is the level that was active until then.
    """

    key: str
    type: AnomalyType
    level: Level
    state: EventState
    t: int
    metric: str | None = None
    value: float | bool | None = None
    threshold: float | None = None
    detail: str = ""

    @property
    def raised(self) -> bool:
        return self.state is EventState.RAISED


class Detector(Protocol):
    key: str  # unique per monitor: one active anomaly per key

    def observe(self, reading: Reading) -> list[Finding]: ...

    def tick(self, now_ms: int) -> list[Finding]:
        """Time-based transitions (persistence by seconds, offline)."""
        ...


Factory = Callable[[SensorConfig, Mapping[str, Finding]], Sequence[Detector]]

F = TypeVar("F", bound=Factory)

DETECTORS: dict[str, Factory] = {}
"""Detector factories by name, in registration order (the order the monitor runs them in)."""


def register(name: str) -> Callable[[F], F]:
    """Add a factory to ``DETECTORS`` under ``name``."""

    def add(factory: F) -> F:
        if name in DETECTORS:
            raise ValueError(f"a detector named {name!r} is already registered")
        DETECTORS[name] = factory
        return factory

    return add


def finding(
    key: str,
    type_: AnomalyType,
    level: Level,
    raised: bool,
    t: int,
    *,
    metric: str | None = None,
    value: float | bool | None = None,
    threshold: float | None = None,
    detail: str = "",
) -> Finding:
    """A ``Finding`` with the state given as a boolean (shorter call sites)."""
    state = EventState.RAISED if raised else EventState.CLEARED
    return Finding(
        key=key,
        type=type_,
        level=level,
        state=state,
        t=t,
        metric=metric,
        value=value,
        threshold=threshold,
        detail=detail[:200],
    )
