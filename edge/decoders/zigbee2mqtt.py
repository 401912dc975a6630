"""Zigbee2MQTT: device state on ``zigbee2mqtt/<friendly_name>``, availability beside it.

State is one JSON object with every exposed property (``smoke``, ``battery``, ``linkquality``...);
which ones depend on the device model, so missing and extra fields are normal. ``last_seen`` is
there when Zigbee2MQTT's ``advanced.last_seen`` is enabled (epoch ms or ISO 8601): it is when the
coordinator heard the device, the closest Zigbee2MQTT has to a measurement time.

Availability (``<name>/availability``) is ``{"state": "online"}`` since Zigbee2MQTT 1.22 and the
plain text ``online``/``offline`` with ``legacy_availability_payload``.
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

TIME_KEYS = ("last_seen",)


@decoder(Ecosystem.ZIGBEE2MQTT)
def decode_zigbee2mqtt(
    payload: bytes, subject: Subject, field_maps: Sequence[FieldMap], kind: SensorKind
) -> Decoded:
    if subject is Subject.AVAILABILITY:
        return decode_availability(payload)
    if subject is not Subject.STATE:
        raise unsupported(Ecosystem.ZIGBEE2MQTT, subject)
    data = load_object(payload)
    problems: list[str] = []
    when = read_time(data, TIME_KEYS, problems)
    return measurement(
        data, field_maps, kind, device_time_ms=when, skip=TIME_KEYS, problems=problems
    )
