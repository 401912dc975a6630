"""Spike rejection: one glitch never raises an alarm; a real sustained jump does, one sample late.

Applies to the metrics that can raise something (those with threshold or rate rules). A value
that jumps from the last accepted one by more than the metric's jump is a *candidate*: it is
held back, alone (the reading's other metrics and flags go on at once, so a smoke flag
arriving with a glitched density is never delayed). Then:

* the next value of that metric is back within the jump of the value before the candidate:
  the candidate was a spike. It is counted, reported with quality SUSPECT, and never fed to
  the detectors;
* the next value is not back: the jump is real. The candidate goes to the detectors first
  (at its own time), then the new value: a sustained jump raises with one sample of delay;
* no next value within ``hold_s`` (1.5 report intervals; the device may report only on
  change): ``tick`` releases the candidate as real.

The jump is ``detection.spike_jump`` (in the unit of the kind's primary metric) for the
primary metric, and half the physical range for the others and when unset: only values that
are near-impossible jumps are held, so real hazards, which build up over samples, are never
delayed in practice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from edge.config import SensorConfig
from streetwatch.messages import Quality, Reading

SPIKE_FRACTION = 0.5
HOLD_INTERVALS = 1.5


@dataclass(frozen=True, slots=True)
class Spike:
    """A rejected single-sample excursion: ``value`` at ``t``, between ``before`` and after."""

    metric: str
    value: float
    t: int
    before: float


@dataclass(frozen=True, slots=True)
class Filtered:
    detect: tuple[Reading, ...] = ()  # for the detectors, oldest first
    forward: tuple[Reading, ...] = ()  # for reporting: detect plus rejected spikes (SUSPECT)
    spikes: tuple[Spike, ...] = ()


@dataclass(frozen=True, slots=True)
class _Held:
    reading: Reading
    value: float
    before: float

    def alone(self, metric: str, quality: Quality) -> Reading:
        update = {"values": {metric: self.value}, "quality": quality}
        return self.reading.model_copy(update=update)


def spike_jumps(sensor: SensorConfig) -> dict[str, float]:
    """The jump that makes a value a spike candidate, per metric that can raise something."""
    kind = sensor.sensor_kind
    watched = {r.metric for r in kind.thresholds} | {r.metric for r in kind.rates}
    jumps = {}
    for name in sorted(watched):
        metric = kind.metric(name)
        jumps[name] = SPIKE_FRACTION * (metric.high - metric.low)
    if kind.primary in jumps and sensor.detection.spike_jump is not None:
        jumps[kind.primary] = sensor.detection.spike_jump
    return jumps


class SpikeFilter:
    def __init__(self, jumps: Mapping[str, float], hold_s: float) -> None:
        self.jumps = dict(jumps)
        self._hold_ms = hold_s * 1000
        self._last: dict[str, float] = {}
        self._held: dict[str, _Held] = {}

    @classmethod
    def for_sensor(cls, sensor: SensorConfig) -> SpikeFilter:
        return cls(spike_jumps(sensor), HOLD_INTERVALS * sensor.interval_s)

    @property
    def holding(self) -> dict[str, float]:
        return {m: h.value for m, h in self._held.items()}

    def filter(self, reading: Reading) -> Filtered:
        keep = dict(reading.values)
        released: list[Reading] = []
        rejected: list[Reading] = []
        spikes: list[Spike] = []
        for metric, jump in self.jumps.items():
            value = keep.get(metric)
            if value is None or isinstance(value, bool):
                continue
            held = self._held.pop(metric, None)
            if held is not None:
                if abs(value - held.before) <= jump:
                    spikes.append(Spike(metric, held.value, held.reading.t, held.before))
                    rejected.append(held.alone(metric, Quality.SUSPECT))
                else:
                    released.append(held.alone(metric, held.reading.quality))
                    self._last[metric] = held.value
            last = self._last.get(metric)
            if last is not None and abs(value - last) > jump:
                self._held[metric] = _Held(reading, value, last)
                del keep[metric]
            else:
                self._last[metric] = value
        main: list[Reading] = []
        if keep:
            main = [reading if len(keep) == len(reading.values) else _with(reading, keep)]
        detect = (*released, *main)
        forward = sorted((*detect, *rejected), key=lambda r: r.t)
        return Filtered(detect, tuple(forward), tuple(spikes))

    def tick(self, now_ms: int) -> Filtered:
        """Release candidates held longer than the hold time: no sample came to disprove them."""
        released = []
        for metric, held in list(self._held.items()):
            if now_ms - held.reading.t >= self._hold_ms:
                del self._held[metric]
                self._last[metric] = held.value
                released.append(held.alone(metric, held.reading.quality))
        released.sort(key=lambda r: r.t)
        return Filtered(tuple(released), tuple(released))


def _with(reading: Reading, values: dict[str, float | bool]) -> Reading:
    return reading.model_copy(update={"values": values})
