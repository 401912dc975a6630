"""Plain JSON publishers: any JSON object on an exact topic, fields found by dotted paths.

An optional device time is read from ``ts``, ``time`` or ``timestamp`` (the first present):
epoch milliseconds or seconds, as an integer or a float, or an ISO 8601 text.
"""

from __future__ import annotations

from collections.abc import Sequence

from edge.decoders.base import Decoded, decoder, load_object, measurement, read_time, unsupported
from streetwatch.kinds import Ecosystem, FieldMap, SensorKind
from streetwatch.topics import Subject

TIME_KEYS = ("ts", "time", "timestamp")


@decoder(Ecosystem.JSON)
def decode_json(
    payload: bytes, subject: Subject, field_maps: Sequence[FieldMap], kind: SensorKind
) -> Decoded:
    if subject is not Subject.STATE:
        raise unsupported(Ecosystem.JSON, subject)
    data = load_object(payload)
    problems: list[str] = []
    when = read_time(data, TIME_KEYS, problems)
    return measurement(
        data, field_maps, kind, device_time_ms=when, skip=TIME_KEYS, problems=problems
    )
