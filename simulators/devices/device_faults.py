"""Faults of the device itself: a flat battery, an opened case, the test button pressed.

Each sets the flags the device's kind has (a kind without a tamper switch ignores ``Tamper``);
whether the edge sees them depends on the ecosystem's fields (``personality.carried``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from simulators.devices.faults import Action, Run, SampleFault, with_value
from simulators.devices.personality import Sample
from streetwatch.anomalies import AnomalyType
from streetwatch.kinds import get_kind


@dataclass(frozen=True, slots=True)
class LowBattery(SampleFault):
    """The battery at ``level`` percent, and the device's battery_low flag set if it has one."""

    what: ClassVar[str] = "battery_low"

    level: float = 5.0

    def change(self, sample: Sample, run: Run) -> Sample:
        changed = replace(sample, battery=self.level)
        if get_kind(sample.kind).has_metric("battery_low"):
            changed = with_value(changed, "battery_low", True)
        run.log.append(self.record(Action.LOW_BATTERY, sample, "battery", self.level))
        return changed


def _set_flags(fault: SampleFault, sample: Sample, run: Run, action: Action, *flags: str) -> Sample:
    kind = get_kind(sample.kind)
    for flag in (f for f in flags if kind.has_metric(f)):
        sample = with_value(sample, flag, True)
        run.log.append(fault.record(action, sample, flag, True))
    return sample


@dataclass(frozen=True, slots=True)
class Tamper(SampleFault):
    """The case is open: the tamper flag is set (kinds without one are left alone)."""

    what: ClassVar[str] = "tamper"

    def change(self, sample: Sample, run: Run) -> Sample:
        return _set_flags(self, sample, run, Action.TAMPERED, "tamper")


@dataclass(frozen=True, slots=True)
class SelfTest(SampleFault):
    """The test button held for the window: the test flag, and the alarm sounding if ``alarm``."""

    what: ClassVar[str] = "self_test"

    alarm: bool = True

    def change(self, sample: Sample, run: Run) -> Sample:
        kind = get_kind(sample.kind)
        alarms = [r.flag for r in kind.flags if r.anomaly is AnomalyType.ALARM_FLAG]
        flags = ["self_test", *alarms[: 1 if self.alarm else 0]]
        return _set_flags(self, sample, run, Action.SELF_TEST, *flags)
