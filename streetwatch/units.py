"""Units of the sensor table and conversions from what devices actually send.

Every metric is stored in one canonical unit (cm of water, MPa, %LEL, dB/m, ...). Devices and
ecosystems report in others (mm, kPa, bar, ppm of methane, %/m obscuration); ``convert`` turns a
value into the canonical unit or says plainly that the pair is not convertible.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import StrEnum


class Unit(StrEnum):
    """Canonical units used by the sensor-kind table."""

    CM = "cm"  # water depth above the road or floor reference
    MPA = "MPa"  # water pressure
    PERCENT_LEL = "%LEL"  # combustible gas, percent of the lower explosive limit
    DB_PER_M = "dB/m"  # smoke obscuration
    PERCENT = "%"  # battery, generic percentages
    DEGREE = "deg"  # tilt
    VOLT = "V"
    CELSIUS = "degC"
    LITRE_PER_S = "L/s"
    LQI = "lqi"  # Zigbee link quality 0..255
    DBM = "dBm"  # radio signal strength
    FLAG = "flag"  # a boolean state (alarm, tamper, battery_low, ...)


METHANE_LEL_PERCENT_VOL = 5.0
"""Methane's lower explosive limit: 5 % by volume, so 1 %LEL = 500 ppm (GB/T 50493-2019)."""


def _obscuration_to_db_per_m(percent_per_m: float) -> float:
    # %/m = 100·(1 − 10^(−dB/10))  ⇒  dB/m = −10·log10(1 − %/m / 100)
    if not 0 <= percent_per_m < 100:
        raise ValueError(f"obscuration {percent_per_m} %/m is outside 0..100")
    return -10.0 * math.log10(1.0 - percent_per_m / 100.0)


def db_per_m_to_obscuration(db_per_m: float) -> float:
    """Smoke obscuration in %/m for a value in dB/m."""
    return 100.0 * (1.0 - math.pow(10.0, -db_per_m / 10.0))


# (from, to) → function. Only conversions that are physically meaningful are listed.
_CONVERSIONS: dict[tuple[str, Unit], Callable[[float], float]] = {
    ("mm", Unit.CM): lambda v: v / 10.0,
    ("m", Unit.CM): lambda v: v * 100.0,
    ("kPa", Unit.MPA): lambda v: v / 1000.0,
    ("bar", Unit.MPA): lambda v: v / 10.0,
    ("psi", Unit.MPA): lambda v: v * 0.006894757,
    ("ppm", Unit.PERCENT_LEL): lambda v: v / (METHANE_LEL_PERCENT_VOL * 100.0),
    ("%vol", Unit.PERCENT_LEL): lambda v: v / METHANE_LEL_PERCENT_VOL * 100.0,
    ("%/m", Unit.DB_PER_M): _obscuration_to_db_per_m,
    ("mV", Unit.VOLT): lambda v: v / 1000.0,
    ("degF", Unit.CELSIUS): lambda v: (v - 32.0) * 5.0 / 9.0,
    ("L/min", Unit.LITRE_PER_S): lambda v: v / 60.0,
    ("m3/h", Unit.LITRE_PER_S): lambda v: v / 3.6,
}


def accepted_units(to: Unit) -> tuple[str, ...]:
    """Every unit a device may report for a metric whose canonical unit is ``to``."""
    return (to.value, *(src for (src, dst) in _CONVERSIONS if dst is to))


class UnitError(ValueError):
    """A unit that cannot be converted to the metric's canonical unit."""


def convert(value: float, source_unit: str, to: Unit) -> float:
    """Convert ``value`` from ``source_unit`` to the canonical unit ``to``.

    The methane conversions assume the gas is methane (natural gas), which is what community
    gas detectors watch; other gases have other explosive limits.
    """
    if source_unit == to.value:
        return value
    try:
        fn = _CONVERSIONS[(source_unit, to)]
    except KeyError:
        known = ", ".join(accepted_units(to))
        raise UnitError(
            f"cannot convert {source_unit!r} to {to.value}; accepted: {known}"
        ) from None
    return fn(value)


def is_convertible(source_unit: str, to: Unit) -> bool:
    return source_unit == to.value or (source_unit, to) in _CONVERSIONS
