"""Stage 2, validate: a decoded sample becomes a ``Reading`` the detectors can trust, or faults.

Checks, per metric: the kind has it (``unknown_metric``), flags are booleans and numbers are
numbers (``wrong_type``), numbers are finite (``nan``) and within the metric's physical range
(``out_of_range``). Per sample: the device's clock is plausible (``future_time``,
``stale_time``).

* every metric good, clock plausible: a ``Reading`` of quality GOOD at the device time (or at
  the receive time when the device sent none);
* some metrics faulty: a ``Reading`` of the good ones, quality SUSPECT, plus the faults;
* every metric faulty: no reading, only the faults;
* clock implausible: the sample is kept at the receive time with quality GOOD, plus a time
  fault (a clock-skewed device still reports water depth).

Faults are never alarms. The caller counts them and hands each to
``SensorMonitor.fault``, which raises a FAULT anomaly (a device problem, not a hazard) after a
few consecutive faulty samples. Pure logic: time comes in as integer milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from edge.config import SensorConfig
from streetwatch.kinds import Metric
from streetwatch.messages import Quality, Reading

__all__ = ["DEFAULT_LIMITS", "FaultReason", "SensorFault", "TimeLimits", "Validated", "validate"]


class FaultReason(StrEnum):
    NAN = "nan"
    OUT_OF_RANGE = "out_of_range"
    FUTURE_TIME = "future_time"
    STALE_TIME = "stale_time"
    UNKNOWN_METRIC = "unknown_metric"
    WRONG_TYPE = "wrong_type"


TIME_REASONS = frozenset({FaultReason.FUTURE_TIME, FaultReason.STALE_TIME})


@dataclass(frozen=True, slots=True)
class TimeLimits:
    """How far a device's own timestamp may stray from the gateway's receive time."""

    max_future_ms: int = 5 * 60_000
    max_age_ms: int = 24 * 3_600_000


DEFAULT_LIMITS = TimeLimits()


@dataclass(frozen=True, slots=True)
class SensorFault:
    """Something impossible in one sample of one sensor; ``t`` is the sample's receive time."""

    sensor: str
    reason: FaultReason
    detail: str  # for people: what was wrong, with the value
    t: int
    metric: str | None = None


@dataclass(frozen=True, slots=True)
class Validated:
    """What validation made of one sample: a reading (unless every metric was faulty), faults."""

    reading: Reading | None
    faults: tuple[SensorFault, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.faults


def validate(
    sensor: SensorConfig,
    values: Mapping[str, float | bool],
    device_time_ms: int | None,
    received_ms: int,
    limits: TimeLimits = DEFAULT_LIMITS,
) -> Validated:
    """Check one decoded sample of ``sensor`` (see the module docstring for the rules).

    An empty sample (a decoder found no field it knows) gives no reading and no faults.
    """
    kind = sensor.sensor_kind
    good: dict[str, float | bool] = {}
    faults: list[SensorFault] = []

    def fault(reason: FaultReason, detail: str, metric: str | None = None) -> None:
        faults.append(SensorFault(sensor.id, reason, detail, received_ms, metric))

    for name, value in values.items():
        if not kind.has_metric(name):
            known = ", ".join(kind.metric_names)
            fault(FaultReason.UNKNOWN_METRIC, f"{kind.name} has no metric {name!r} ({known})", name)
            continue
        problem = _value_problem(kind.metric(name), value)
        if problem is None:
            good[name] = value if isinstance(value, bool) else float(value)
        else:
            fault(*problem, name)

    t = received_ms
    time_fault = _time_problem(device_time_ms, received_ms, limits)
    if time_fault is not None:
        fault(*time_fault)
    elif device_time_ms is not None:
        t = device_time_ms

    if not good:
        return Validated(None, tuple(faults))
    # A wrong device clock does not make the value doubtful: the sample is re-timed with the
    # gateway's receive time and stays GOOD (else a Tasmota box on local time would have every
    # sample marked suspect and streamed); the time fault is still counted and reported.
    value_faults = [f for f in faults if f.reason not in TIME_REASONS]
    quality = Quality.SUSPECT if value_faults else Quality.GOOD
    reading = Reading(sensor=sensor.id, kind=sensor.kind, t=t, values=good, quality=quality)
    return Validated(reading, tuple(faults))


def _value_problem(metric: Metric, value: object) -> tuple[FaultReason, str] | None:
    name = f"{metric.name} = {value!r}"
    if metric.is_flag:
        if isinstance(value, bool):
            return None
        return FaultReason.WRONG_TYPE, f"{name}: a flag must be true or false"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return FaultReason.WRONG_TYPE, f"{name}: expected a number in {metric.unit}"
    if not math.isfinite(value):
        return FaultReason.NAN, f"{name}: not a finite number"
    if not metric.in_range(value):
        return (
            FaultReason.OUT_OF_RANGE,
            f"{name} {metric.unit} is outside the physical range "
            f"{metric.low:g}..{metric.high:g} {metric.unit}",
        )
    return None


def _time_problem(
    device_ms: int | None, received_ms: int, limits: TimeLimits
) -> tuple[FaultReason, str] | None:
    if device_ms is None:
        return None
    skew = device_ms - received_ms
    if skew > limits.max_future_ms:
        return (
            FaultReason.FUTURE_TIME,
            f"device clock is {_duration(skew)} ahead of the gateway; using the receive time",
        )
    if -skew > limits.max_age_ms:
        return (
            FaultReason.STALE_TIME,
            f"device time is {_duration(-skew)} old; using the receive time",
        )
    return None


def _duration(ms: int) -> str:
    s = ms / 1000
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"
