"""The vocabulary of anomalies and hazards shared by edge detectors, hub rules and simulators."""

from __future__ import annotations

from enum import StrEnum


class Hazard(StrEnum):
    """What kind of danger an anomaly points to; the hub groups incidents by it."""

    FIRE = "fire"
    FLOOD = "flood"
    GAS = "gas"
    WATER_SUPPLY = "water_supply"  # hydrants and mains
    ROAD = "road"  # manhole covers and other street furniture
    DEVICE = "device"  # device and network faults, outages

    @property
    def zh(self) -> str:
        return _HAZARD_ZH[self]


_HAZARD_ZH = {
    Hazard.FIRE: "火灾",
    Hazard.FLOOD: "内涝",
    Hazard.GAS: "燃气泄漏",
    Hazard.WATER_SUPPLY: "消防供水",
    Hazard.ROAD: "道路设施",
    Hazard.DEVICE: "设备与网络",
}


class AnomalyType(StrEnum):
    """Why an anomaly event was raised."""

    THRESHOLD = "threshold"  # a metric crossed a level threshold
    RATE_OF_CHANGE = "rate_of_change"  # rising (or falling) fast: an early warning
    ALARM_FLAG = "alarm_flag"  # the device itself reports an alarm (smoke, gas, water leak)
    STUCK = "stuck"  # flat-lined value
    SPIKE = "spike"  # rejected single-sample excursion
    OFFLINE = "offline"  # no report within the expected interval
    BATTERY_LOW = "battery_low"
    TAMPER = "tamper"
    SELF_TEST = "self_test"  # the device's test button: never a real alarm
    FAULT = "fault"  # impossible values, bad timestamps
    TEST = "test"  # an installer's end-to-end test alarm: pages nobody

    @property
    def is_device_fault(self) -> bool:
        """True for types that say something about the device, not the world."""
        return self in _DEVICE_TYPES

    @property
    def pages_responders(self) -> bool:
        """False for tests and self-tests, which must never page anyone."""
        return self not in (AnomalyType.SELF_TEST, AnomalyType.TEST)


_DEVICE_TYPES = frozenset(
    {
        AnomalyType.STUCK,
        AnomalyType.SPIKE,
        AnomalyType.OFFLINE,
        AnomalyType.BATTERY_LOW,
        AnomalyType.TAMPER,
        AnomalyType.FAULT,
    }
)
