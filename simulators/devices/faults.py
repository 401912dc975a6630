"""Faults a scenario lists: data (a frozen record of parameters and window) that transforms a
stream lazily and logs every change it made, the ground truth a run is scored against.

Value faults change ``Sample``s before a personality encodes them: here the measurement and
clock faults (``Drift``, ``Stuck``, ``Spikes``, ``ClockSkew``), in ``device_faults`` the device's
own flags (``LowBattery``, ``Tamper``, ``SelfTest``). Delivery faults (``delivery``) work on any
stream of items with ``sensor`` and ``t_ms``.

A fault acts on the items with ``start_ms <= t_ms < end_ms`` (``end_ms`` None: to the end) of
``sensor`` (None: every sensor). Random faults draw from ``random.Random(seed)`` in stream order,
so the same seed and the same stream give the same output.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from simulators.devices.personality import Sample, Value
from streetwatch.kinds import get_kind


class Action(StrEnum):
    DRIFTED = "drifted"
    STUCK = "stuck"
    SPIKED = "spiked"
    LOW_BATTERY = "low_battery"
    TAMPERED = "tampered"
    SELF_TEST = "self_test"
    SKEWED = "skewed"
    DROPPED = "dropped"
    DUPLICATED = "duplicated"
    REORDERED = "reordered"


@dataclass(frozen=True, slots=True)
class FaultRecord:
    """One change a fault made to one item, and the value it left (offsets for reorder)."""

    fault: str
    action: Action
    sensor: str
    t_ms: int
    metric: str | None = None
    value: float | bool | None = None


class Timed(Protocol):
    @property
    def sensor(self) -> str: ...

    @property
    def t_ms(self) -> int: ...


@dataclass
class Run:
    """One application of a fault: its random stream, its memory, the shared log."""

    rng: random.Random
    log: list[FaultRecord]
    memory: dict[str, Value] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Fault:
    """Where and when a fault acts; ``what`` names it in the ground truth (``simulators.truth``)."""

    what: ClassVar[str] = "fault"
    start_ms: int = 0
    end_ms: int | None = None
    sensor: str | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.end_ms is not None and self.end_ms <= self.start_ms:
            raise ValueError(f"{type(self).__name__}: end_ms must be after start_ms")

    def targets(self, item: Timed) -> bool:
        return self.sensor is None or item.sensor == self.sensor

    def active(self, t_ms: int) -> bool:
        return self.start_ms <= t_ms and (self.end_ms is None or t_ms < self.end_ms)

    def covers(self, item: Timed) -> bool:
        return self.targets(item) and self.active(item.t_ms)

    def record(
        self, action: Action, item: Timed, metric: str | None = None, value: Value | None = None
    ) -> FaultRecord:
        return FaultRecord(type(self).__name__, action, item.sensor, item.t_ms, metric, value)

    def apply(self, items: Iterable[Sample], log: list[FaultRecord]) -> Iterator[Sample]:
        raise NotImplementedError


@dataclass(frozen=True, slots=True, kw_only=True)
class SampleFault(Fault):
    """A fault that changes what a device reports, one covered sample at a time."""

    def apply(self, items: Iterable[Sample], log: list[FaultRecord]) -> Iterator[Sample]:
        run = Run(random.Random(self.seed), log)
        for sample in items:
            yield self.change(sample, run) if self.covers(sample) else sample

    def change(self, sample: Sample, run: Run) -> Sample:
        raise NotImplementedError


_STATE = ("battery", "linkquality", "rssi")  # Sample fields, not values


def with_value(sample: Sample, metric: str, value: Value) -> Sample:
    if metric in _STATE:
        changes: dict[str, Any] = {metric: value}
        return replace(sample, **changes)
    return replace(sample, values={**sample.values, metric: value})


def clamp(sample: Sample, metric: str, value: float) -> float:
    """``value`` within the metric's physical range, so that it stays publishable."""
    spec = get_kind(sample.kind).metric(metric)
    return min(max(value, spec.low), spec.high)


@dataclass(frozen=True, slots=True)
class Drift(SampleFault):
    """A slow offset: ``per_hour`` canonical units an hour since ``start_ms``."""

    what: ClassVar[str] = "sensor_drift"

    metric: str
    per_hour: float

    def change(self, sample: Sample, run: Run) -> Sample:
        value = sample.metrics().get(self.metric)
        if value is None or isinstance(value, bool):
            return sample
        offset = self.per_hour * (sample.t_ms - self.start_ms) / 3_600_000
        drifted = clamp(sample, self.metric, value + offset)
        run.log.append(self.record(Action.DRIFTED, sample, self.metric, drifted))
        return with_value(sample, self.metric, drifted)


@dataclass(frozen=True, slots=True)
class Stuck(SampleFault):
    """The metric repeats the first value it had in the window, per sensor."""

    what: ClassVar[str] = "sensor_stuck"

    metric: str

    def change(self, sample: Sample, run: Run) -> Sample:
        value = sample.metrics().get(self.metric)
        if value is None:
            return sample
        held = run.memory.setdefault(sample.sensor, value)
        run.log.append(self.record(Action.STUCK, sample, self.metric, held))
        return with_value(sample, self.metric, held)


@dataclass(frozen=True, slots=True)
class Spikes(SampleFault):
    """Single-sample excursions of ``magnitude`` with ``probability``, kept in range."""

    what: ClassVar[str] = "sensor_spike"

    metric: str
    magnitude: float
    probability: float = 0.1

    def change(self, sample: Sample, run: Run) -> Sample:
        value = sample.metrics().get(self.metric)
        if value is None or isinstance(value, bool) or run.rng.random() >= self.probability:
            return sample
        up = run.rng.random() < 0.5
        spec = get_kind(sample.kind).metric(self.metric)
        if not spec.in_range(value + (self.magnitude if up else -self.magnitude)):
            up = not up
        spiked = clamp(sample, self.metric, value + (self.magnitude if up else -self.magnitude))
        run.log.append(self.record(Action.SPIKED, sample, self.metric, spiked))
        return with_value(sample, self.metric, spiked)


@dataclass(frozen=True, slots=True)
class ClockSkew(SampleFault):
    """The device clock is ``seconds`` off: its time fields say ``t_ms + seconds``."""

    what: ClassVar[str] = "clock_skew"

    seconds: float

    def change(self, sample: Sample, run: Run) -> Sample:
        run.log.append(self.record(Action.SKEWED, sample, None, self.seconds))
        return replace(sample, skew_ms=sample.skew_ms + round(self.seconds * 1000))
