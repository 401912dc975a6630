"""What every personality shares: device units, device resolution, nested fields, device clocks.

The kind table says how to read a payload field into a metric (``FieldMap`` and
``streetwatch.units.convert``); a simulated device does the opposite. ``to_device_unit`` inverts
``convert`` (affine conversions are inverted from two points of ``convert`` itself, so the two
can never disagree), ``published`` rounds to the resolution real devices report with.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any, Final

from streetwatch.kinds import FieldMap, Metric
from streetwatch.units import Unit, convert, db_per_m_to_obscuration

DECIMALS: Final[Mapping[str, int]] = MappingProxyType(
    {
        "%": 0,  # battery percent: whole numbers
        "lqi": 0,
        "dBm": 0,
        "mm": 0,
        "ppm": 0,
        "m": 3,  # liquid depth in m: mm resolution
        "cm": 1,
        "MPa": 3,
        "kPa": 1,
        "%LEL": 1,
        "dB/m": 3,
        "%/m": 2,
        "deg": 1,
        "V": 1,
    }
)
"""Decimal places a device reports in each unit (StreetWatch default; real models vary)."""

DEFAULT_DECIMALS: Final = 2

Raw = bool | int | float
"""A field value as it goes into the payload."""

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def decimals(unit: str) -> int:
    return DECIMALS.get(unit, DEFAULT_DECIMALS)


def device_unit(fm: FieldMap, metric: Metric) -> str:
    """The unit a field is published in (a map without a unit uses the metric's own)."""
    return fm.unit or metric.unit.value


def to_device_unit(value: float, unit: str, canonical: Unit) -> float:
    """``value`` (in ``canonical``) in ``unit``: the inverse of ``convert(_, unit, canonical)``."""
    if unit == canonical.value:
        return value
    if unit == "%/m" and canonical is Unit.DB_PER_M:
        return db_per_m_to_obscuration(value)
    offset = convert(0.0, unit, canonical)
    scale = convert(1.0, unit, canonical) - offset
    if not math.isclose(convert(2.0, unit, canonical), offset + 2 * scale, rel_tol=1e-12):
        raise ValueError(f"no inverse for the conversion {unit} -> {canonical}")  # not affine
    return (value - offset) / scale


def published(value: float | bool, fm: FieldMap, metric: Metric) -> Raw:
    """A canonical value as the device publishes it in ``fm``'s unit and resolution."""
    if metric.is_flag:
        return bool(value)
    unit = device_unit(fm, metric)
    places = decimals(unit)
    number = round(to_device_unit(float(value), unit, metric.unit), places)
    return int(number) if places == 0 else number


def nest(fields: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """A payload object from (dotted path, value) pairs: ``ENERGY.Voltage`` nests."""
    root: dict[str, Any] = {}
    for path, value in fields:
        *parents, leaf = path.split(".")
        node = root
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return root


def local_time(ms: int, utc_offset_s: int, *, zone: bool = True, timespec: str = "seconds") -> str:
    """ISO 8601 of a Unix ms time on a clock ``utc_offset_s`` from UTC, with or without zone."""
    tz = UTC if utc_offset_s == 0 else timezone(timedelta(seconds=utc_offset_s))
    when = (_EPOCH + timedelta(milliseconds=ms)).astimezone(tz)
    if not zone:
        when = when.replace(tzinfo=None)
    return when.isoformat(timespec=timespec)
