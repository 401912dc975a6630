"""Offline: the sensor has not been heard for ``sensor.offline_s`` seconds, or says it is gone.

Keyed ``offline``, level blue (a device problem; the hub decides whether a silent smoke
detector in a fire area matters more). Three inputs:

* ``tick``: no sample (nor fault, nor availability "online") for longer than ``offline_s``. A
  sensor never heard since start counts from the first tick, so a gateway restart gives every
  sensor its full grace period.
* ``availability(False)``: Zigbee2MQTT's ``<name>/availability`` or Tasmota's LWT said
  offline: raised at once. ``availability(True)`` clears it and counts as a sign of life.
* any sample (or faulty sample: a device sending garbage is still on the air) clears it.

The monitor gives this detector every sample before spike filtering, so a held-back value
never makes a live sensor look silent.
"""

from __future__ import annotations

from edge.detectors.base import Finding, finding
from streetwatch.anomalies import AnomalyType
from streetwatch.levels import Level
from streetwatch.messages import Reading

KEY = "offline"


class OfflineDetector:
    def __init__(self, offline_s: float) -> None:
        self.key = KEY
        self.raised = False
        self.last_seen_ms: int | None = None
        self._offline_ms = offline_s * 1000
        self._since: int | None = None  # last sign of life, or the first tick

    def observe(self, reading: Reading) -> list[Finding]:
        return self.seen(reading.t, "reporting again")

    def seen(self, t: int, why: str, *, sample: bool = True) -> list[Finding]:
        """A sign of life at ``t`` (a sample, unless ``sample`` is false): restart the timer."""
        if sample:
            self.last_seen_ms = max(t, self.last_seen_ms or t)
        self._since = max(t, self._since or t)
        if not self.raised:
            return []
        self.raised = False
        return [finding(self.key, AnomalyType.OFFLINE, Level.BLUE, False, t, detail=why)]

    def availability(self, online: bool, now_ms: int) -> list[Finding]:
        if online:
            return self.seen(now_ms, "device available again", sample=False)
        return self._raise(now_ms, "the device's availability topic says offline")

    def tick(self, now_ms: int) -> list[Finding]:
        if self._since is None:
            self._since = now_ms
        silent = now_ms - self._since
        if self.raised or silent <= self._offline_ms:
            return []
        return self._raise(now_ms, f"no report for {silent / 1000:.0f} s")

    def _raise(self, t: int, why: str) -> list[Finding]:
        if self.raised:
            return []
        self.raised = True
        return [finding(self.key, AnomalyType.OFFLINE, Level.BLUE, True, t, detail=why)]
