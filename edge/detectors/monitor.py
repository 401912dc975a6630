"""Stage 3, detect: every detector of one sensor, composed, and the anomalies they hold active.

A ``SensorMonitor`` is built from the sensor's config alone (no I/O, no clock): the detectors
registered in ``DETECTORS`` that apply to its kind, in registration order (threshold, rate,
stuck, flags: the rate detector reads the threshold level the same sample produced), plus the
two that watch the device rather than the world: offline and validation faults. Samples pass
the spike filter before the registered detectors see them.

The monitor keeps ``active``, the raised anomaly per detector key, and drops any finding that
would not change it (a RAISED finding repeating the active type and level, a CLEARED finding
for a key not raised), so a caller turning findings into events can never send duplicates.

Samples older than the last one the detectors saw (a late LoRaWAN retry, a replayed buffer)
still count as signs of life and are forwarded for reporting, but never fed to the detectors,
whose persistence and rates assume time moves forward; an exact repeat of the last sample (same
time, same values: a QoS 1 redelivery) is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from edge.config import SensorConfig
from edge.detectors.base import DETECTORS, Detector, Finding
from edge.detectors.fault import FaultDetector
from edge.detectors.offline import OfflineDetector
from edge.detectors.spike import Filtered, Spike, SpikeFilter
from edge.validate import SensorFault
from streetwatch.levels import Level
from streetwatch.messages import Reading


@dataclass(frozen=True, slots=True)
class MonitorResult:
    findings: tuple[Finding, ...]
    spikes_rejected: tuple[Spike, ...]
    forwarded: tuple[Reading, ...]  # what to report, oldest first (spikes marked SUSPECT)


class SensorMonitor:
    def __init__(self, sensor: SensorConfig) -> None:
        self.sensor = sensor
        self._active: dict[str, Finding] = {}
        view = MappingProxyType(self._active)
        self._detectors: list[Detector] = [
            detector for factory in DETECTORS.values() for detector in factory(sensor, view)
        ]
        self._offline = OfflineDetector(sensor.offline_s)
        self._faults = FaultDetector(sensor.detection.fault_samples)
        self._spikes = SpikeFilter.for_sensor(sensor)
        self._last: Reading | None = None
        self._values: dict[str, float | bool] = {}

    @property
    def keys(self) -> tuple[str, ...]:
        """Every detector key of this sensor (for ``edge status``)."""
        return (*(d.key for d in self._detectors), self._offline.key, self._faults.key)

    @property
    def active(self) -> Mapping[str, Finding]:
        """The raised anomalies, by detector key (a read-only live view)."""
        return MappingProxyType(self._active)

    @property
    def level(self) -> Level:
        """The highest active hazard level; device faults and self-tests do not count."""
        hazards = [
            f.level
            for f in self._active.values()
            if not f.type.is_device_fault and f.type.pages_responders
        ]
        return max(hazards, default=Level.NONE)

    @property
    def last_seen_ms(self) -> int | None:
        return self._offline.last_seen_ms

    @property
    def last_values(self) -> Mapping[str, float | bool]:
        """The latest value of every metric (late samples excluded, spike candidates included)."""
        return MappingProxyType(self._values)

    def observe(self, reading: Reading, received_ms: int | None = None) -> MonitorResult:
        """Run one validated reading through the detectors.

        ``received_ms`` is when the gateway got it (the offline timer runs on the gateway's
        clock); the reading's own time when not given.
        """
        heard = reading.t if received_ms is None else received_ms
        found = self._apply(self._offline.seen(heard, "reporting again"))
        found += self._apply(self._faults.observe(reading, received_ms))
        last = self._last
        if last is not None and reading.t == last.t and reading.values == last.values:
            return MonitorResult(tuple(found), (), ())
        if last is not None and reading.t < last.t:
            return MonitorResult(tuple(found), (), (reading,))
        self._last = reading
        self._values.update(reading.values)
        filtered = self._spikes.filter(reading)
        found += self._detect(filtered)
        return MonitorResult(tuple(found), filtered.spikes, filtered.forward)

    def fault(self, fault: SensorFault, now_ms: int) -> list[Finding]:
        """A validation fault of this sensor (call once per fault; one sample may have many)."""
        found = self._apply(self._offline.seen(now_ms, "sending again (faulty samples)"))
        return found + self._apply(self._faults.fault(fault, now_ms))

    def availability(self, online: bool, now_ms: int) -> list[Finding]:
        """The device's availability topic (Zigbee2MQTT availability, Tasmota LWT)."""
        return self._apply(self._offline.availability(online, now_ms))

    def tick(self, now_ms: int) -> MonitorResult:
        """Time-based transitions: held spike candidates, persistence by seconds, offline.

        ``forwarded`` holds the spike candidates released as real (to report them too).
        """
        released = self._spikes.tick(now_ms)
        found = self._detect(released)
        for detector in self._detectors:
            found += self._apply(detector.tick(now_ms))
        found += self._apply(self._offline.tick(now_ms))
        return MonitorResult(tuple(found), (), released.forward)

    def _detect(self, filtered: Filtered) -> list[Finding]:
        found: list[Finding] = []
        for reading in filtered.detect:
            for detector in self._detectors:
                found += self._apply(detector.observe(reading))
        return found

    def _apply(self, findings: list[Finding]) -> list[Finding]:
        kept = []
        for f in findings:
            current = self._active.get(f.key)
            if f.raised:
                if current is not None and (current.type, current.level) == (f.type, f.level):
                    continue
                self._active[f.key] = f
            elif self._active.pop(f.key, None) is None:
                continue
            kept.append(f)
        return kept
