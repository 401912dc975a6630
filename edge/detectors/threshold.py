"""Level thresholds with persistence both ways and a hysteresis band to clear.

One detector per ``ThresholdRule`` of the sensor (overrides from gateway.yaml applied), keyed
``threshold:<metric>:<direction>``.

* Raise or escalate to level L when ``raise_samples`` consecutive samples are at or beyond L's
  threshold, or, if ``raise_after_s`` > 0, when they have been for that many seconds (whichever
  comes first; the seconds are also checked on ``tick``, for devices that report only on
  change).
* Move down (de-escalate, or clear) only when ``clear_samples`` consecutive samples *and* at
  least ``clear_after_s`` seconds are below the current level's threshold minus the hysteresis
  (above it plus the hysteresis for falling thresholds). The new level is the highest one any
  sample of that run still held with hysteresis; none means CLEARED.
* Escalation and de-escalation are RAISED findings at the new level on the same key.

Input that flaps around a threshold raises once: a raise needs a run of samples beyond it, and
once raised, a sample inside the hysteresis band breaks every run towards clearing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from edge.config import DetectionConfig, SensorConfig
from edge.detectors.base import Finding, finding, register
from streetwatch.anomalies import AnomalyType
from streetwatch.kinds import Direction, ThresholdRule
from streetwatch.levels import Level
from streetwatch.messages import Reading


def threshold_key(metric: str, direction: Direction) -> str:
    return f"threshold:{metric}:{direction}"


@dataclass(slots=True)
class _Run:
    """Consecutive samples on one side of a line: how many, since when, how far they held."""

    count: int
    since: int
    held: Level = Level.NONE


class ThresholdDetector:
    def __init__(self, rule: ThresholdRule, unit: str, detection: DetectionConfig) -> None:
        self.rule = rule
        self.key = threshold_key(rule.metric, rule.direction)
        self.level = Level.NONE
        self._unit = unit
        self._cfg = detection
        self._up: dict[Level, _Run] = {}  # per step: the run of samples at or beyond it
        self._down: _Run | None = None  # the run of samples below the current level
        self._value: float | None = None

    def observe(self, reading: Reading) -> list[Finding]:
        value = reading.values.get(self.rule.metric)
        if value is None or isinstance(value, bool):
            return []
        t = reading.t
        self._value = value
        for step in self.rule.steps:
            run = self._up.get(step.level)
            if self._beyond(value, step.value):
                self._up[step.level] = _Run(run.count + 1, run.since) if run else _Run(1, t)
            else:
                self._up.pop(step.level, None)
        held = self._held(value)
        if self.level is not Level.NONE and held < self.level:
            run = self._down
            self._down = (
                _Run(run.count + 1, run.since, max(run.held, held)) if run else _Run(1, t, held)
            )
        else:
            self._down = None
        return self._evaluate(t)

    def tick(self, now_ms: int) -> list[Finding]:
        return self._evaluate(now_ms)

    def _evaluate(self, now: int) -> list[Finding]:
        cfg = self._cfg
        for step in reversed(self.rule.steps):
            if step.level <= self.level:
                break
            run = self._up.get(step.level)
            if run is None:
                continue
            by_time = cfg.raise_after_s > 0 and now - run.since >= cfg.raise_after_s * 1000
            if run.count >= cfg.raise_samples or by_time:
                self.level, self._down = step.level, None
                return [self._finding(step.level, True, now)]
        down = self._down
        if (
            down is not None
            and down.count >= cfg.clear_samples
            and now - down.since >= cfg.clear_after_s * 1000
        ):
            old, self.level, self._down = self.level, down.held, None
            if down.held is Level.NONE:
                return [self._finding(old, False, now)]
            return [self._finding(down.held, True, now, down_from=old)]
        return []

    def _beyond(self, value: float, line: float) -> bool:
        return value >= line if self.rule.direction is Direction.RISING else value <= line

    def _held(self, value: float) -> Level:
        """The highest level the value still holds, allowing for the hysteresis band."""
        h = self.rule.hysteresis
        sign = 1 if self.rule.direction is Direction.RISING else -1
        held = Level.NONE
        for step in self.rule.steps:
            if self._beyond(value, step.value - sign * h):
                held = step.level
        return held

    def _finding(
        self, level: Level, raised: bool, t: int, down_from: Level | None = None
    ) -> Finding:
        line = next(s.value for s in self.rule.steps if s.level is level)
        value = self._value
        said = f"{self.rule.metric} {value:g} {self._unit}"
        if down_from is not None:
            detail = f"{said}: down from {down_from} to {level} ({line:g})"
        elif raised:
            op = "≥" if self.rule.direction is Direction.RISING else "≤"
            detail = f"{said} {op} {level} threshold {line:g}"
        else:
            detail = f"{said}: back within the {level} threshold {line:g}"
        return finding(
            self.key,
            AnomalyType.THRESHOLD,
            level,
            raised,
            t,
            metric=self.rule.metric,
            value=value,
            threshold=line,
            detail=f"{detail} ({self.rule.zh})",
        )


@register("threshold")
def thresholds(sensor: SensorConfig, active: Mapping[str, Finding]) -> list[ThresholdDetector]:
    kind = sensor.sensor_kind
    return [
        ThresholdDetector(rule, kind.metric(rule.metric).unit, sensor.detection)
        for rule in sensor.threshold_rules()
    ]
