"""Rate of change: an early warning before any threshold is reached.

One detector per ``RateRule`` of the kind (off when ``detection.rate_of_change`` is false), keyed
``rate:<metric>``. The slope is the least-squares fit over the samples of the last
``window_s`` seconds; it needs at least 3 samples spanning at least half the window, otherwise
nothing changes. A positive ``per_minute`` watches rises, a negative one falls.

* Raised at the rule's level when the slope reaches the rate, but only while the threshold
  detector for the same metric and direction is below ``rule.below_level``: once thresholds
  take over, the early warning has done its job.
* Cleared when the slope falls under half the rate (hysteresis), when the threshold detector
  reaches ``below_level`` (superseded), or on ``tick`` when fewer than two samples are left in
  the window (the device went quiet, or reports only on change: no evidence of a rise).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from edge.config import SensorConfig
from edge.detectors.base import Finding, finding, register
from edge.detectors.threshold import threshold_key
from streetwatch.anomalies import AnomalyType
from streetwatch.kinds import Direction, RateRule
from streetwatch.levels import Level
from streetwatch.messages import Reading

MIN_SAMPLES = 3


def slope_per_minute(samples: list[tuple[int, float]]) -> float:
    """Least-squares slope of (ms, value) samples, in value per minute."""
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    if var == 0:
        return 0.0
    cov = sum((t - mean_t) * (v - mean_v) for t, v in samples)
    return cov / var * 60_000


class RateDetector:
    def __init__(self, rule: RateRule, unit: str, active: Mapping[str, Finding]) -> None:
        self.rule = rule
        self.key = f"rate:{rule.metric}"
        self.raised = False
        self._unit = unit
        self._active = active
        direction = Direction.RISING if rule.per_minute > 0 else Direction.FALLING
        self._gate_key = threshold_key(rule.metric, direction)
        self._window: deque[tuple[int, float]] = deque()
        self._window_ms = int(rule.window_s * 1000)

    def observe(self, reading: Reading) -> list[Finding]:
        value = reading.values.get(self.rule.metric)
        if value is None or isinstance(value, bool):
            return []
        self._window.append((reading.t, value))
        self._prune(reading.t)
        gated = self._threshold_level() >= self.rule.below_level
        if self.raised and gated:
            return self._change(False, reading.t, value, None, "superseded by the threshold")
        samples = list(self._window)
        if len(samples) < MIN_SAMPLES or samples[-1][0] - samples[0][0] < self._window_ms / 2:
            return []
        slope = slope_per_minute(samples)
        towards = slope / self.rule.per_minute  # 1.0 = exactly the rule's rate, in its direction
        if not self.raised and not gated and towards >= 1:
            return self._change(True, reading.t, value, slope, "")
        if self.raised and towards < 0.5:
            return self._change(False, reading.t, value, slope, "")
        return []

    def tick(self, now_ms: int) -> list[Finding]:
        self._prune(now_ms)
        if self.raised and len(self._window) < 2:
            return self._change(False, now_ms, None, None, "no recent samples")
        return []

    def _prune(self, now: int) -> None:
        while self._window and self._window[0][0] < now - self._window_ms:
            self._window.popleft()

    def _threshold_level(self) -> Level:
        current = self._active.get(self._gate_key)
        return current.level if current is not None and current.raised else Level.NONE

    def _change(
        self, raised: bool, t: int, value: float | None, slope: float | None, why: str
    ) -> list[Finding]:
        self.raised = raised
        rule = self.rule
        rate = f"{abs(rule.per_minute):g} {self._unit}/min"
        if slope is not None:
            moving = "rising" if slope > 0 else "falling"
            said = f"{rule.metric} {moving} {abs(slope):.2f} {self._unit}/min"
            detail = f"{said} over {rule.window_s:g} s (rule: {rate})"
        else:
            detail = f"{rule.metric} rate of change: {why}"
        return [
            finding(
                self.key,
                AnomalyType.RATE_OF_CHANGE,
                rule.level,
                raised,
                t,
                metric=rule.metric,
                value=value,
                threshold=rule.per_minute,
                detail=detail,
            )
        ]


@register("rate")
def rates(sensor: SensorConfig, active: Mapping[str, Finding]) -> list[RateDetector]:
    if not sensor.detection.rate_of_change:
        return []
    kind = sensor.sensor_kind
    return [RateDetector(rule, kind.metric(rule.metric).unit, active) for rule in kind.rates]
