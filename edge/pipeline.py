"""The gateway's per-message pipeline, with no I/O: route → decode → validate → detect → report.

``Pipeline.on_message`` takes one local-broker message and returns what should leave the
gateway (findings to turn into events, readings to stream); summaries come from ``summaries``
and time-based findings (offline, persistence by seconds) from ``tick``. Every rejection is
counted by reason and never stops the stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edge.config import GatewayConfig, SensorConfig
from edge.decoders import DecodeFailure, decode
from edge.detectors.base import Finding
from edge.detectors.monitor import MonitorResult, SensorMonitor
from edge.reporting import Reporter
from edge.router import Router
from edge.validate import DEFAULT_LIMITS, TimeLimits, validate
from streetwatch.counters import Counters
from streetwatch.levels import Level
from streetwatch.messages import Reading, WindowSummary

FOREVER_MS = 2**62
OVERDUE_FACTOR = 1.5  # a sensor is overdue 1.5 report intervals after its last sample


@dataclass(slots=True)
class Outputs:
    findings: list[tuple[SensorConfig, Finding]] = field(default_factory=list)
    readings: list[Reading] = field(default_factory=list)


class Pipeline:
    def __init__(
        self, config: GatewayConfig, counters: Counters, limits: TimeLimits = DEFAULT_LIMITS
    ) -> None:
        self.config = config
        self.counters = counters
        self.limits = limits
        self.router = Router(config.sensors)
        self.monitors = {s.id: SensorMonitor(s) for s in config.sensors}
        self.reporter = Reporter(config.reporting)
        self._alert_until_ms: int | None = None  # street alert mode (战时): stream everything

    # -- alert mode -----------------------------------------------------------------------

    def set_alert_mode(self, on: bool, until_ms: int | None = None) -> None:
        """Street alert mode on (until a time, or until switched off) or off."""
        self._alert_until_ms = (until_ms if until_ms is not None else FOREVER_MS) if on else None

    def alert_mode(self, now_ms: int) -> bool:
        return self._alert_until_ms is not None and now_ms < self._alert_until_ms

    # -- data -----------------------------------------------------------------------------

    def on_message(self, topic: str, payload: bytes, now_ms: int) -> Outputs:
        out = Outputs()
        route = self.router.route(topic)
        if route is None:
            self.counters.add("ignored", "no_sensor_for_topic")
            return out
        sensor = route.sensor
        monitor = self.monitors[sensor.id]
        try:
            decoded = decode(
                sensor.source.ecosystem,
                payload,
                route.subject,
                sensor.field_maps(),
                sensor.sensor_kind,
            )
        except DecodeFailure as exc:
            self.counters.add("rejected", exc.reason)
            return out
        if decoded.problems:
            self.counters.add("field_problem", sensor.kind, len(decoded.problems))
        if decoded.online is not None:
            out.findings.extend((sensor, f) for f in monitor.availability(decoded.online, now_ms))
            return out
        validated = validate(sensor, decoded.values, decoded.device_time_ms, now_ms, self.limits)
        for fault in validated.faults:
            self.counters.add("sensor_fault", fault.reason.value)
            out.findings.extend((sensor, f) for f in monitor.fault(fault, now_ms))
        if validated.reading is None:
            return out
        self._take(sensor, monitor.observe(validated.reading, now_ms), now_ms, out)
        return out

    def tick(self, now_ms: int) -> Outputs:
        out = Outputs()
        for sensor in self.config.sensors:
            self._take(sensor, self.monitors[sensor.id].tick(now_ms), now_ms, out)
        return out

    def _take(self, sensor: SensorConfig, result: MonitorResult, now_ms: int, out: Outputs) -> None:
        out.findings.extend((sensor, f) for f in result.findings)
        if result.spikes_rejected:
            self.counters.add("spike_rejected", sensor.kind, len(result.spikes_rejected))
        # Stream while the sensor has a hazard anomaly (not a device fault: a low battery must
        # not stream forever) or the street is in alert mode.
        streaming = self.monitors[sensor.id].level > Level.NONE or self.alert_mode(now_ms)
        for reading in result.forwarded:
            out.readings.extend(self.reporter.add(reading, streaming=streaming))

    def summaries(self, now_ms: int, *, coarsen: int = 1) -> list[WindowSummary]:
        return self.reporter.flush(now_ms, coarsen=coarsen)

    # -- status ---------------------------------------------------------------------------

    def last_seen(self) -> dict[str, int]:
        return {sid: m.last_seen_ms for sid, m in self.monitors.items() if m.last_seen_ms}

    def _is_overdue(self, sensor: SensorConfig, now_ms: int) -> bool:
        last = self.monitors[sensor.id].last_seen_ms or 0
        return now_ms - last > sensor.interval_s * 1000 * OVERDUE_FACTOR

    def overdue(self, now_ms: int) -> list[str]:
        return [s.id for s in self.config.sensors if self._is_overdue(s, now_ms)]

    def sensor_status(self, now_ms: int) -> list[dict[str, Any]]:
        rows = []
        for s in self.config.sensors:
            m = self.monitors[s.id]
            rows.append(
                {
                    "id": s.id,
                    "kind": s.kind.value,
                    "last_seen_ms": m.last_seen_ms,
                    "values": dict(m.last_values) if m.last_values else None,
                    "level": m.level.value,
                    "active": sorted(
                        f"{f.type.value}:{f.level.value}" + (f"({f.metric})" if f.metric else "")
                        for f in m.active.values()
                    ),
                    "overdue": self._is_overdue(s, now_ms),
                }
            )
        return rows
