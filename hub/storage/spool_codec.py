"""How the spool writes points down: one compact JSON array per batch, types kept exactly.

A batch is ``[[measurement, [[tag, value], ...], {field: value, ...}, time_ms], ...]``. JSON
already tells ``true`` from ``1`` from ``1.0`` from ``"1"``, and orjson writes every float with
a fraction or exponent, so bool, int, float and str fields come back as the same types. Two
kinds of value JSON cannot hold are written as a tagged pair instead (a list, which no field
value ever is): a float that is not finite (``["f", "nan"]``; orjson would write ``null``) and
an int beyond 64 bits (``["i", "123…"]``; orjson refuses it); a point holding one has a fifth
element, ``1``, so that reading the others needs no look at each field. The backend may refuse
such values, but the spool keeps them exactly as they came.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import orjson

from hub.storage.base import FieldValue, Point

_INT_MIN = -(2**63)
_INT_MAX = 2**64 - 1

_Encoded = FieldValue | list[str]


class SpoolDecodeError(ValueError):
    """A stored batch is not what this module writes (the file was damaged or edited)."""


def encode_points(points: Sequence[Point]) -> bytes:
    return orjson.dumps([_encode_point(p) for p in points])


def decode_points(payload: bytes) -> list[Point]:
    try:
        return [_decode_point(*row) for row in orjson.loads(payload)]
    except (ValueError, TypeError) as exc:
        raise SpoolDecodeError(f"not a spooled batch: {exc}") from exc


def _encode_point(p: Point) -> list[object]:
    fields = p.fields
    for value in fields.values():
        if _special(value):  # rare: a fifth element says the fields hold tagged pairs
            return [
                p.measurement,
                p.tags,
                {k: _encode_value(v) for k, v in fields.items()},
                p.time_ms,
                1,
            ]
    return [p.measurement, p.tags, fields if type(fields) is dict else dict(fields), p.time_ms]


def _decode_point(
    measurement: object, tags: object, fields: object, time_ms: object, *tagged: object
) -> Point:
    if not (
        type(measurement) is str
        and type(fields) is dict
        and type(time_ms) is int
        and isinstance(tags, list)
    ):
        raise ValueError(f"unexpected point {[measurement, tags, fields, time_ms]!r}")
    if tagged:
        fields = {k: _decode_value(v) for k, v in fields.items()}
    return Point(measurement, tuple(map(tuple, tags)), fields, time_ms)


def _special(value: FieldValue) -> bool:
    if type(value) is float:
        return not math.isfinite(value)
    return type(value) is int and not _INT_MIN <= value <= _INT_MAX


def _encode_value(value: FieldValue) -> _Encoded:
    if type(value) is float and not math.isfinite(value):
        return ["f", repr(value)]
    if type(value) is int and not _INT_MIN <= value <= _INT_MAX:
        return ["i", str(value)]
    return value


def _decode_value(value: object) -> FieldValue:
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list) and len(value) == 2:
        kind, text = value
        if kind == "f":
            return float(text)
        if kind == "i":
            return int(text)
    raise ValueError(f"unexpected field value {value!r}")
