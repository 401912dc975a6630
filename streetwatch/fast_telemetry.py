"""The hub's hot path for its commonest message: a telemetry batch of raw readings.

Telemetry is nearly all of a hub's traffic. The shared models (``streetwatch.messages``) decode a
50-reading batch at about 2.8 µs per reading, most of it pydantic building and re-checking a
model per reading; msgspec decodes the same JSON straight into typed structs in C at about a
third of that (``bench/ingest/bench_hotpath.py`` prints both). This is the one place where a
second decoder of the schema is worth having, and it stays a strict subset of the first:

* :func:`decode_readings` returns a :class:`FastBatch` only for a batch of raw readings that
  ``TelemetryBatch`` accepts, with the same values (numbers as floats, flags as booleans, the
  same enums). Anything else (a batch with window summaries, a payload over the size limit, any
  field msgspec or the checks below refuse) returns ``None``, and the caller decodes with the
  shared models, which alone give a rejection its reason and its words.
* ``tests/unit/streetwatch/test_fast_telemetry.py`` holds the two decoders together with
  hypothesis: over valid, mutated and random payloads, whatever this one accepts the models accept
  and read the same.

What msgspec checks in C: the fields and their JSON types (no unknown fields, no coercion: a
number is not text, ``1`` is not ``true``), the version and message tag, the boot id's pattern,
integer ranges, list and map sizes, kinds and qualities by value, numbers finite. What is checked
here in Python, once per distinct value thanks to the slug cache: ids are slugs, and every metric
is one of the reading's kind.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from streetwatch.codec import MAX_PAYLOAD_BYTES
from streetwatch.ids import known_slug
from streetwatch.kinds import KINDS, KindName
from streetwatch.messages import MAX_BATCH_ITEMS, Quality, TelemetryBatch

__all__ = ["FastBatch", "FastReading", "Telemetry", "decode_readings"]

_Millis = Annotated[int, msgspec.Meta(ge=0, lt=2**53)]
_Seq = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
_Boot = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{8,32}$")]
_Values = Annotated[dict[str, bool | float], msgspec.Meta(min_length=1, max_length=32)]


class FastReading(msgspec.Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    """A ``streetwatch.messages.Reading`` as msgspec decodes it (same names, types and values)."""

    sensor: str
    kind: KindName
    t: _Millis
    values: _Values
    quality: Quality = Quality.GOOD


class FastBatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A ``TelemetryBatch`` of raw readings only (a batch with summaries takes the models)."""

    v: Literal[1]
    msg: Literal["telemetry"]
    gateway: str
    boot: _Boot
    seq: _Seq
    sent: _Millis
    readings: Annotated[
        tuple[FastReading, ...], msgspec.Meta(min_length=1, max_length=MAX_BATCH_ITEMS)
    ]
    summaries: Annotated[tuple[Any, ...], msgspec.Meta(max_length=0)] = ()
    replayed: bool = False


Telemetry = TelemetryBatch | FastBatch
"""A decoded telemetry batch, from either decoder: the hub reads both alike."""

_DECODER = msgspec.json.Decoder(FastBatch)
_METRICS = {kind: frozenset(KINDS[kind].by_name) for kind in KindName}


def decode_readings(payload: bytes | bytearray | memoryview) -> FastBatch | None:
    """The batch, if it is one of raw readings that the shared models accept; else ``None``."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        return None
    try:
        batch = _DECODER.decode(payload)
        known_slug(batch.gateway)
        metrics = _METRICS
        for r in batch.readings:
            known_slug(r.sensor)
            if not r.values.keys() <= metrics[r.kind]:
                return None
    except (msgspec.DecodeError, ValueError):  # ValueError: invalid UTF-8 in a key, a bad slug
        return None
    return batch
