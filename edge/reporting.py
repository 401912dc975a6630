"""Stage 4, summarise: what to send now and what to fold into window summaries (平战结合).

* Streaming (the sensor has an active anomaly, or the street is in alert mode, 战时): every
  sample goes out at once.
* Normal times (平时), report by exception: a sensor's first sample, and any sample in which a
  numeric metric moved by more than ``deadband`` × its physical range from the last value sent,
  a flag changed, or a metric appears that was never sent. Radio diagnostics (link quality,
  RSSI) wobble all the time and never trigger a send on their own.
* SUSPECT samples (partly faulty, skewed clock, rejected spikes) are always sent as they are,
  marked, so the hub can judge them; they never enter summaries nor become the deadband's
  reference.

Every GOOD sample, streamed or not, also goes into its sensor's window (aligned on
``window_s``), so the summary series stays complete across mode changes. ``flush`` closes a
sensor's oldest window once ``window_s`` × ``coarsen`` has passed since it started, merging the
aligned windows inside that span: under outbox pressure the agent passes ``coarsen=4`` and
sends a quarter as many summaries. A sample that arrives after its window was flushed goes
into the next window, so a window is never summarised twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from edge.config import ReportingConfig
from streetwatch.kinds import KINDS, KindName, Metric
from streetwatch.messages import MetricStats, Quality, Reading, WindowSummary
from streetwatch.units import Unit

__all__ = ["DIAGNOSTIC_UNITS", "Reporter"]

DIAGNOSTIC_UNITS = frozenset({Unit.LQI, Unit.DBM})


@dataclass(slots=True)
class _Stats:
    min: float
    max: float
    total: float
    count: int
    last: float
    last_t: int

    def add(self, value: float, t: int) -> None:
        self.min, self.max = min(self.min, value), max(self.max, value)
        self.total += value
        self.count += 1
        if t >= self.last_t:
            self.last, self.last_t = value, t

    def merge(self, other: _Stats) -> None:
        self.min, self.max = min(self.min, other.min), max(self.max, other.max)
        self.total += other.total
        self.count += other.count
        if other.last_t >= self.last_t:
            self.last, self.last_t = other.last, other.last_t

    def frozen(self) -> MetricStats:
        mean = min(max(self.total / self.count, self.min), self.max)  # float sums may stray
        return MetricStats(min=self.min, max=self.max, mean=mean, last=self.last, count=self.count)


@dataclass(slots=True)
class _Window:
    kind: KindName
    stats: dict[str, _Stats] = field(default_factory=dict)
    flags: dict[str, tuple[int, bool]] = field(default_factory=dict)

    def add(self, reading: Reading) -> None:
        t = reading.t
        for name, value in reading.values.items():
            if isinstance(value, bool):
                if t >= self.flags.get(name, (t, value))[0]:
                    self.flags[name] = (t, value)
            elif name in self.stats:
                self.stats[name].add(value, t)
            else:
                self.stats[name] = _Stats(value, value, value, 1, value, t)

    def merge(self, other: _Window) -> None:
        for name, stats in other.stats.items():
            if name in self.stats:
                self.stats[name].merge(stats)
            else:
                self.stats[name] = stats
        for name, (t, value) in other.flags.items():
            if t >= self.flags.get(name, (t, value))[0]:
                self.flags[name] = (t, value)


class Reporter:
    """Report-by-exception, streaming and window summaries for every sensor of a gateway."""

    def __init__(self, config: ReportingConfig) -> None:
        self.config = config
        self._window_ms = int(config.window_s * 1000)
        self._sent: dict[str, dict[str, float | bool]] = {}  # per sensor: last values sent
        self._windows: dict[str, dict[int, _Window]] = {}  # per sensor: window start → window
        self._flushed_until: dict[str, int] = {}  # per sensor: end of the last summary

    def add(self, reading: Reading, streaming: bool) -> list[Reading]:
        """Take one sample; return the samples to send at once (this one, or nothing)."""
        if reading.quality is not Quality.GOOD:
            return [reading]
        self._window(reading).add(reading)
        if not streaming and not self._exceptional(reading):
            return []
        self._sent.setdefault(reading.sensor, {}).update(reading.values)
        return [reading]

    def flush(self, now_ms: int, *, coarsen: int = 1) -> list[WindowSummary]:
        """Summaries of every window that started at least ``window_s × coarsen`` ago."""
        if coarsen < 1:
            raise ValueError(f"coarsen must be 1 or more, not {coarsen}")
        span = self._window_ms * coarsen
        summaries = []
        for sensor, windows in self._windows.items():
            while windows:
                start = min(windows)
                end = start + span
                if end > now_ms:
                    break
                merged = [windows.pop(s) for s in sorted(windows) if s < end]
                summaries.append(_summary(sensor, start, end, merged))
                self._flushed_until[sensor] = end
        return summaries

    def _window(self, reading: Reading) -> _Window:
        start = reading.t - reading.t % self._window_ms
        start = max(start, self._flushed_until.get(reading.sensor, start))
        windows = self._windows.setdefault(reading.sensor, {})
        if start not in windows:
            windows[start] = _Window(reading.kind)
        return windows[start]

    def _exceptional(self, reading: Reading) -> bool:
        sent = self._sent.get(reading.sensor)
        if sent is None:
            return True
        kind = KINDS[reading.kind]
        for name, value in reading.values.items():
            metric = kind.metric(name)
            if metric.unit in DIAGNOSTIC_UNITS:
                continue
            before = sent.get(name)
            if before is None or _moved(metric, before, value, self.config.deadband):
                return True
        return False


def _moved(metric: Metric, before: float | bool, now: float | bool, deadband: float) -> bool:
    if isinstance(now, bool) or isinstance(before, bool):
        return now != before
    return abs(now - before) > deadband * (metric.high - metric.low)


def _summary(sensor: str, start: int, end: int, windows: Iterable[_Window]) -> WindowSummary:
    windows = list(windows)
    merged = windows[0]
    for window in windows[1:]:
        merged.merge(window)
    return WindowSummary(
        sensor=sensor,
        kind=merged.kind,
        start=start,
        end=end,
        stats={name: s.frozen() for name, s in merged.stats.items()},
        flags={name: value for name, (_, value) in merged.flags.items()},
    )
