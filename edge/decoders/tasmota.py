"""Tasmota: ``tele/<topic>/SENSOR`` every TelePeriod, ``tele/<topic>/LWT`` Online/Offline.

SENSOR is a JSON object with ``Time`` and one nested object per sensor driver
(``{"Time": "...", "ANALOG": {"A0": 512}, "SR04": {"Distance": 12.3}}``); field maps use dotted
paths into it (``ENERGY.Voltage``). ``TempUnit``-style keys describe units and are not data.
"""

from __future__ import annotations

from collections.abc import Sequence

from edge.decoders.base import (
    Decoded,
    decode_availability,
    decoder,
    load_object,
    measurement,
    read_time,
    unsupported,
)
from streetwatch.kinds import Ecosystem, FieldMap, SensorKind
from streetwatch.topics import Subject

TIME_KEYS = ("Time",)
UNIT_KEYS = ("TempUnit", "PressureUnit", "SpeedUnit")


@decoder(Ecosystem.TASMOTA)
def decode_tasmota(
    payload: bytes, subject: Subject, field_maps: Sequence[FieldMap], kind: SensorKind
) -> Decoded:
    if subject is Subject.AVAILABILITY:
        return decode_availability(payload)  # LWT: the plain text "Online" / "Offline"
    if subject is not Subject.STATE:
        raise unsupported(Ecosystem.TASMOTA, subject)
    data = load_object(payload)
    problems: list[str] = []
    # Tasmota's Time is the device's local time and has no zone unless SetOption52 is on
    # ("2026-11-22T10:00:00+08:00"). Without a zone it is read as UTC, so a device set to
    # Beijing time looks 8 h ahead: installers should turn SetOption52 on; meanwhile validation
    # counts a future_time fault and re-times the sample with the gateway's receive time.
    when = read_time(data, TIME_KEYS, problems)
    return measurement(
        data,
        field_maps,
        kind,
        device_time_ms=when,
        skip=(*TIME_KEYS, *UNIT_KEYS),
        problems=problems,
    )
