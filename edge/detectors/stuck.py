"""Stuck (flat-lined) sensors: the primary metric repeats the exact same value for too long.

Real pressure, depth and gas readings always wobble in their last digits; a value that repeats
exactly for hours means a frozen sensor or a device repeating its last good reading. Keyed
``stuck:<primary>``, raised at blue (a device problem), cleared on the first different value.

The time comes from ``detection.stuck_after_s``; when unset, from the kind table's
``stuck_after_s`` (off for kinds without one); ``detection.stuck: false`` turns it off. It needs
samples as evidence: at least two identical ones spanning the time (silence is the offline
detector's business, not this one's).
"""

from __future__ import annotations

from collections.abc import Mapping

from edge.config import SensorConfig
from edge.detectors.base import Finding, finding, register
from streetwatch.anomalies import AnomalyType
from streetwatch.levels import Level
from streetwatch.messages import Reading


class StuckDetector:
    def __init__(self, metric: str, after_s: float) -> None:
        self.metric = metric
        self.key = f"stuck:{metric}"
        self.raised = False
        self._after_ms = after_s * 1000
        self._value: float | None = None
        self._since = 0

    def observe(self, reading: Reading) -> list[Finding]:
        value = reading.values.get(self.metric)
        if value is None or isinstance(value, bool):
            return []
        t = reading.t
        if value != self._value:
            self._value, self._since = value, t
            if self.raised:
                self.raised = False
                return [self._finding(False, t, value, "changed again")]
            return []
        if not self.raised and t - self._since >= self._after_ms:
            self.raised = True
            hours = (t - self._since) / 3_600_000
            return [self._finding(True, t, value, f"unchanged for {hours:.1f} h")]
        return []

    def tick(self, now_ms: int) -> list[Finding]:
        return []

    def _finding(self, raised: bool, t: int, value: float, why: str) -> Finding:
        return finding(
            self.key,
            AnomalyType.STUCK,
            Level.BLUE,
            raised,
            t,
            metric=self.metric,
            value=value,
            detail=f"{self.metric} = {value:g}: {why}",
        )


@register("stuck")
def stuck(sensor: SensorConfig, active: Mapping[str, Finding]) -> list[StuckDetector]:
    kind = sensor.sensor_kind
    after_s = sensor.detection.stuck_after_s or kind.stuck_after_s
    if not sensor.detection.stuck or after_s is None or kind.metric(kind.primary).is_flag:
        return []
    return [StuckDetector(kind.primary, after_s)]
