"""Decoder types, the registry, and the helpers every decoder shares.

A decoder turns one MQTT payload from one device ecosystem into metric values in the canonical
units of ``streetwatch.units``. Decoders are plain functions registered by ecosystem with
``@decoder(Ecosystem.X)``; ``decode`` looks one up and calls it.

Errors::

    DecodeFailure          the whole message is unusable; .reason is a slug for counting:
                           too_large, not_text, not_json, not_object, unsupported_subject,
                           no_known_fields, no_usable_fields, bad_availability, bad_base64,
                           no_payload, no_codec_object, bad_object, bad_object_json, no_decoder

Per-field trouble (a field of the wrong type, an unconvertible unit, a bad timestamp) does not
stop a message: it is listed in ``Decoded.problems`` and the other fields are still used.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Final

import orjson

from streetwatch.kinds import Ecosystem, FieldMap, Metric, SensorKind
from streetwatch.topics import Subject
from streetwatch.units import convert

MAX_PAYLOAD_BYTES: Final = 64 * 1024
"""Largest device payload decoded; device messages are a few hundred bytes."""

MAX_IGNORED: Final = 64
"""At most this many unused fields are listed in ``Decoded.ignored``."""

_MAX_MS: Final = 2**53  # the wire format's Millis bound


@dataclass(frozen=True, slots=True)
class Decoded:
    """What one message says.

    ``values`` is empty only for availability messages (``online`` set) and for status
    messages that carried nothing usable (a ChirpStack device on external power).
    """

    values: Mapping[str, float | bool]  # metric name -> value in the metric's canonical unit
    device_time_ms: int | None  # when the device says it measured, else None
    online: bool | None = None  # availability / LWT: True or False; None for measurements
    ignored: tuple[str, ...] = ()  # payload fields that were present but unused
    problems: tuple[str, ...] = ()  # per-field problems that did not stop decoding


class DecodeFailure(Exception):
    """The whole message is unusable; ``reason`` is for counting, ``str()`` is for people."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


Decoder = Callable[[bytes, Subject, Sequence[FieldMap], SensorKind], Decoded]

DECODERS: dict[Ecosystem, Decoder] = {}
"""Ecosystem -> decoder, filled by ``@decoder``; ``edge.decoders`` imports every module."""


def decoder(ecosystem: Ecosystem) -> Callable[[Decoder], Decoder]:
    """Register the decorated function as the decoder of ``ecosystem``."""

    def register(fn: Decoder) -> Decoder:
        if ecosystem in DECODERS and DECODERS[ecosystem] is not fn:
            raise RuntimeError(f"two decoders for {ecosystem}: {DECODERS[ecosystem]} and {fn}")
        DECODERS[ecosystem] = fn
        return fn

    return register


def decode(
    ecosystem: Ecosystem,
    payload: bytes,
    subject: Subject,
    field_maps: Sequence[FieldMap],
    kind: SensorKind,
) -> Decoded:
    """Decode one payload of ``ecosystem``; raises ``DecodeFailure`` and nothing else."""
    check_size(payload)
    try:
        fn = DECODERS[ecosystem]
    except KeyError:
        known = ", ".join(sorted(DECODERS))
        raise DecodeFailure("no_decoder", f"no decoder for {ecosystem!r}; known: {known}") from None
    return fn(payload, subject, field_maps, kind)


def unsupported(ecosystem: Ecosystem, subject: Subject) -> DecodeFailure:
    return DecodeFailure("unsupported_subject", f"{ecosystem} devices send no {subject} messages")


# ---------------------------------------------------------------------------------------------
# Payloads.


def check_size(payload: bytes) -> None:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise DecodeFailure(
            "too_large", f"payload of {len(payload)} bytes; the limit is {MAX_PAYLOAD_BYTES}"
        )


def load_json(payload: bytes) -> Any:
    check_size(payload)
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise DecodeFailure("not_json", f"payload is not JSON: {exc}") from None


def load_object(payload: bytes) -> dict[str, Any]:
    data = load_json(payload)
    if not isinstance(data, dict):
        raise DecodeFailure("not_object", f"expected a JSON object, got {_json_type(data)}")
    return data


def load_text(payload: bytes) -> str:
    check_size(payload)
    try:
        return payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise DecodeFailure("not_text", "payload is not UTF-8 text") from None


def decode_availability(payload: bytes) -> Decoded:
    """``online``/``offline`` as plain text (any case), a JSON string, or ``{"state": ...}``."""
    text = load_text(payload)
    state: Any = text
    if text.startswith(("{", '"')):
        data = load_json(payload)
        state = data.get("state") if isinstance(data, dict) else data
    if isinstance(state, str) and state.lower() in ("online", "offline"):
        return Decoded({}, None, online=state.lower() == "online")
    raise DecodeFailure(
        "bad_availability",
        f'expected online or offline (plain, or as {{"state": ...}}), got {_show(text)}',
    )


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


def _show(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------------------------------------
# Fields.


class _Missing(Enum):
    MISSING = "missing"


MISSING: Final = _Missing.MISSING


def lookup(data: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (``"ENERGY.Voltage"``), or ``MISSING``."""
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return MISSING
        node = node[part]
    return node


def leaf_paths(data: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Every (dotted path, value) that is not itself an object, in payload order."""
    leaves: list[tuple[str, Any]] = []
    stack: list[tuple[str, Mapping[str, Any]]] = [("", data)]
    while stack:  # iterative: JSON may nest deeper than Python's recursion limit
        prefix, node = stack.pop()
        children = []
        for key, value in node.items():
            path = f"{prefix}{key}"
            if isinstance(value, dict):
                children.append((path + ".", value))
            else:
                leaves.append((path, value))
        stack.extend(reversed(children))
    return leaves


_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_FLAG_WORDS = {"on": True, "true": True, "off": False, "false": False}


def as_number(value: Any) -> float:
    """A finite number from a JSON number or a numeric string; ``ValueError`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a number, got {_json_type(value)} {_show(value)}")
    if isinstance(value, str) and not _NUMBER.fullmatch(value.strip()):
        raise ValueError(f"expected a number, got the text {_show(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"{_show(value)} is too large") from None
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {_show(value)}")
    return number


def as_flag(value: Any) -> bool:
    """true/false, "ON"/"OFF", "true"/"false" (any case) or 0/1; ``ValueError`` otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return value == 1
    if isinstance(value, str) and value.strip().lower() in _FLAG_WORDS:
        return _FLAG_WORDS[value.strip().lower()]
    raise ValueError(f"expected true/false (or ON/OFF, 1/0), got {_show(value)}")


def metric_value(raw: Any, unit: str | None, metric: Metric) -> float | bool:
    """``raw`` read as ``metric`` and converted from ``unit`` (None: canonical)."""
    if metric.is_flag:
        if unit not in (None, metric.unit.value):
            raise ValueError(f"{metric.name} is a flag; unit {unit!r} does not apply")
        return as_flag(raw)
    number = as_number(raw)
    if unit is None or unit == metric.unit.value:
        return number
    try:
        out = convert(number, unit, metric.unit)
    except ArithmeticError:
        raise ValueError(f"{number:g} {unit} cannot be expressed in {metric.unit}") from None
    if not math.isfinite(out):
        raise ValueError(f"{number:g} {unit} is too large in {metric.unit}")
    return out


def apply_field_maps(
    data: Mapping[str, Any], field_maps: Sequence[FieldMap], kind: SensorKind
) -> tuple[dict[str, float | bool], set[str], list[str]]:
    """(values, paths read, problems): the first field map that yields a value wins."""
    values: dict[str, float | bool] = {}
    read: set[str] = set()
    problems: list[str] = []
    for fm in field_maps:
        if fm.metric in values or fm.path in read:
            continue
        raw = lookup(data, fm.path)
        if raw is MISSING or raw is None:
            continue
        read.add(fm.path)
        if not kind.has_metric(fm.metric):
            problems.append(f"{fm.path}: {kind.name} has no metric {fm.metric!r}")
            continue
        try:
            values[fm.metric] = metric_value(raw, fm.unit, kind.metric(fm.metric))
        except ValueError as exc:  # UnitError is a ValueError
            problems.append(f"{fm.path}: {exc}")
    return values, read, problems


def measurement(
    data: Mapping[str, Any],
    field_maps: Sequence[FieldMap],
    kind: SensorKind,
    *,
    device_time_ms: int | None = None,
    skip: Iterable[str] = (),
    problems: Sequence[str] = (),
) -> Decoded:
    """Apply the field maps to a payload object; ``skip`` names metadata (time) fields."""
    values, read, field_problems = apply_field_maps(data, field_maps, kind)
    all_problems = (*problems, *field_problems)
    skipped = set(skip)
    present = [
        path
        for path, value in leaf_paths(data)
        if value is not None
        and path not in skipped
        and not any(path == r or path.startswith(r + ".") for r in read)
    ]
    if not values:
        if all_problems:
            raise DecodeFailure("no_usable_fields", "; ".join(all_problems))
        wanted = ", ".join(dict.fromkeys(fm.path for fm in field_maps)) or "(none configured)"
        raise DecodeFailure(
            "no_known_fields",
            f"none of the fields {_show(present, 120)} feeds a {kind.name} sensor; expected "
            f"one of: {wanted}. Map the device's fields under source.fields in gateway.yaml",
        )
    return Decoded(values, device_time_ms, None, tuple(present[:MAX_IGNORED]), all_problems)


# ---------------------------------------------------------------------------------------------
# Time.

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_SECONDS_BELOW: Final = 1e11  # as ms that is 1973; as seconds, year 5138


def parse_time(value: Any) -> int:
    """Unix milliseconds from epoch seconds or milliseconds, or an ISO 8601 text.

    Numbers (and numeric texts) below 1e11 are seconds, larger ones milliseconds: devices send
    both, as integers and as floats. An ISO text without a zone is taken as UTC.
    """
    if isinstance(value, str) and not _NUMBER.fullmatch(value.strip()):
        try:
            when = datetime.fromisoformat(value.strip())
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            ms = (when - _EPOCH) // timedelta(milliseconds=1)
        except (ValueError, OverflowError):
            raise ValueError(f"{_show(value)} is not an ISO 8601 time") from None
    else:
        number = as_number(value)
        ms = math.floor(number * 1000 if abs(number) < _SECONDS_BELOW else number)
    if not 0 <= ms < _MAX_MS:
        raise ValueError(f"time {_show(value)} is out of range")
    return ms


def read_time(data: Mapping[str, Any], keys: Sequence[str], problems: list[str]) -> int | None:
    """The device time from the first of ``keys`` present; a bad one is a problem, not fatal."""
    for key in keys:
        raw = lookup(data, key)
        if raw is MISSING or raw is None:
            continue
        try:
            return parse_time(raw)
        except ValueError as exc:
            problems.append(f"{key}: {exc}")
            return None
    return None
