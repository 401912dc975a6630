"""ChirpStack (LoRaWAN): application events on ``application/<app>/device/<dev_eui>/event/<e>``.

``event/up`` (v4)::

    {"deduplicationId": "...", "time": "2026-11-22T02:00:00.123456789+00:00",
     "deviceInfo": {"tenantId": ..., "applicationId": ..., "deviceName": ..., "devEui": ...},
     "fCnt": 10, "fPort": 2, "data": "<base64>", "object": {...}, "rxInfo": [{"rssi": -97}]}

Only ``object``, the payload decoded by the device profile's codec, is read: the raw ``data``
bytes are vendor-specific and are not decoded here. v3 sent the object as a JSON text in
``objectJSON``; that is accepted too. The best ``rxInfo`` RSSI feeds metric ``rssi``.

``event/status`` carries ``batteryLevel`` in percent (``batteryLevelUnavailable`` or
``externalPowerSource`` when there is none): it feeds ``battery`` and ``battery_low``. A status
event with none of the three, or with a ``batteryLevel`` that is not a number, is refused
(``no_known_fields``, ``no_usable_fields``) like an uplink without usable fields.
"""

from __future__ import annotations

import binascii
from base64 import b64decode
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Final

import orjson

from edge.decoders.base import (
    Decoded,
    DecodeFailure,
    as_number,
    decoder,
    load_object,
    measurement,
    read_time,
    unsupported,
)
from streetwatch.kinds import Ecosystem, FieldMap, SensorKind
from streetwatch.topics import Subject

BATTERY_LOW_PERCENT: Final = 20.0
"""StreetWatch default; no primary source. Below it a status event sets battery_low."""

TIME_KEYS = ("time",)  # v4 only; v3 envelopes have no top-level time
NO_BATTERY_KEYS = ("batteryLevelUnavailable", "externalPowerSource")  # status: no level to read


@decoder(Ecosystem.CHIRPSTACK)
def decode_chirpstack(
    payload: bytes, subject: Subject, field_maps: Sequence[FieldMap], kind: SensorKind
) -> Decoded:
    envelope = load_object(payload)
    problems: list[str] = []
    when = read_time(envelope, TIME_KEYS, problems)
    if subject is Subject.STATUS:
        return _status(envelope, kind, when, problems)
    if subject is not Subject.STATE:
        raise unsupported(Ecosystem.CHIRPSTACK, subject)
    decoded = measurement(
        codec_object(envelope), field_maps, kind, device_time_ms=when, problems=problems
    )
    rssi = _best_rssi(envelope.get("rxInfo"))
    if rssi is not None and kind.has_metric("rssi") and "rssi" not in decoded.values:
        return replace(decoded, values={**decoded.values, "rssi": rssi})
    return decoded


def codec_object(envelope: Mapping[str, Any]) -> dict[str, Any]:
    """The codec's decoded ``object`` of an uplink (v4 ``object``, v3 ``objectJSON``)."""
    data = envelope.get("data")
    if data is not None:
        try:
            if not isinstance(data, str):
                raise TypeError
            b64decode(data, validate=True)
        except (TypeError, ValueError, binascii.Error):
            raise DecodeFailure(
                "bad_base64", "'data' is not base64; this is not a ChirpStack uplink"
            ) from None
    obj = envelope.get("object")
    if obj is None and isinstance(envelope.get("objectJSON"), str) and envelope["objectJSON"]:
        try:
            obj = orjson.loads(envelope["objectJSON"])
        except orjson.JSONDecodeError as exc:
            raise DecodeFailure("bad_object_json", f"'objectJSON' is not JSON: {exc}") from None
    if obj is None:
        if envelope.get("fPort") == 0 or not data:
            raise DecodeFailure(
                "no_payload", "uplink carries no application payload (fPort 0 or no data)"
            )
        raise DecodeFailure(
            "no_codec_object",
            "uplink has no decoded 'object': add a payload codec to the device profile in "
            "ChirpStack (Device profiles > Codec), or look for codec errors in event/log",
        )
    if not isinstance(obj, dict):
        raise DecodeFailure("bad_object", "the codec's 'object' must be a JSON object")
    return obj


def _best_rssi(rx_info: Any) -> float | None:
    if not isinstance(rx_info, list):
        return None
    found = []
    for rx in rx_info:
        raw = rx.get("rssi") if isinstance(rx, dict) else None
        try:
            found.append(as_number(raw))
        except ValueError:
            continue
    return max(found, default=None)


def _status(
    envelope: Mapping[str, Any], kind: SensorKind, when: int | None, problems: list[str]
) -> Decoded:
    if any(envelope.get(key) is True for key in NO_BATTERY_KEYS):
        return Decoded({}, when, problems=tuple(problems))  # nothing to report, and that is fine
    level = envelope.get("batteryLevel")
    if level is None:
        raise DecodeFailure(
            "no_known_fields",
            "status event without batteryLevel, externalPowerSource or batteryLevelUnavailable: "
            "nothing to read (is this a ChirpStack v4 event/status?)",
        )
    values: dict[str, float | bool] = {}
    if kind.has_metric("battery"):
        try:
            values["battery"] = percent = as_number(level)
        except ValueError as exc:
            raise DecodeFailure(
                "no_usable_fields", "; ".join([*problems, f"batteryLevel: {exc}"])
            ) from None
        if kind.has_metric("battery_low"):
            values["battery_low"] = percent < BATTERY_LOW_PERCENT
    return Decoded(values, when, problems=tuple(problems))
