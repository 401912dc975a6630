"""Validation faults: a device that keeps sending impossible samples has a problem.

Keyed ``fault``, level blue (a device problem, never a hazard). Raised after
``detection.fault_samples`` (default 3) consecutive faulty samples, cleared by the next GOOD
reading. Faults arrive one by one from validation; faults with the same receive time belong to
one sample and count once. A SUSPECT reading (partly faulty), or the GOOD reading of a sample
whose time was implausible (re-timed), neither counts nor clears: its faults do the counting.
"""

from __future__ import annotations

from edge.detectors.base import Finding, finding
from edge.validate import FaultReason, SensorFault
from streetwatch.anomalies import AnomalyType
from streetwatch.levels import Level
from streetwatch.messages import Quality, Reading

KEY = "fault"


class FaultDetector:
    def __init__(self, persist: int) -> None:
        self.key = KEY
        self.raised = False
        self.streak = 0
        self._persist = persist
        self._last_sample: int | None = None

    def observe(self, reading: Reading, received_ms: int | None = None) -> list[Finding]:
        if reading.quality is not Quality.GOOD:
            return []
        if received_ms is not None and received_ms == self._last_sample:
            # The reading of the sample whose faults were just counted: a clock-skewed sample is
            # re-timed and kept GOOD (edge/validate.py), but it is not a fully good one.
            return []
        self.streak, self._last_sample = 0, None
        if not self.raised:
            return []
        self.raised = False
        return [
            finding(self.key, AnomalyType.FAULT, Level.BLUE, False, reading.t, detail="good again")
        ]

    def fault(self, fault: SensorFault, now_ms: int) -> list[Finding]:
        if fault.t != self._last_sample:
            self.streak += 1
            self._last_sample = fault.t
        if self.raised or self.streak < self._persist:
            return []
        self.raised = True
        detail = f"{self.streak} faulty samples in a row ({fault.reason}): {fault.detail}"
        return [
            finding(
                self.key,
                AnomalyType.FAULT,
                Level.BLUE,
                True,
                now_ms,
                # an unknown metric's name may not even be a valid metric name on the wire
                metric=None if fault.reason is FaultReason.UNKNOWN_METRIC else fault.metric,
                detail=detail,
            )
        ]

    def tick(self, now_ms: int) -> list[Finding]:
        return []
