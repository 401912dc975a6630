"""Encoding and decoding of wire messages, with limits and counted reasons for rejection.

Decoding is ``orjson.loads`` (fast, and it refuses NaN, Infinity and invalid UTF-8) followed by
a cached pydantic ``TypeAdapter``. Every failure is a ``DecodeError`` with a ``RejectReason``, so
the edge and the hub count rejections by reason and dead-letter the payload without ever
letting one bad message stop a stream.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Any, TypeVar, cast

import orjson
from pydantic import BaseModel, TypeAdapter, ValidationError

from streetwatch.messages import (
    COMMAND_MODELS,
    SCHEMA_VERSION,
    AnomalyEvent,
    Command,
    GatewayHealth,
    GatewayState,
    TelemetryBatch,
)
from streetwatch.topics import Channel

MAX_PAYLOAD_BYTES = 512 * 1024
"""Largest payload accepted; a full 5000-reading batch is about 400 KiB."""

M = TypeVar("M", bound=BaseModel)


class RejectReason(StrEnum):
    TOO_LARGE = "too_large"
    NOT_JSON = "not_json"
    NOT_AN_OBJECT = "not_an_object"
    UNSUPPORTED_VERSION = "unsupported_version"
    WRONG_MESSAGE = "wrong_message"  # a valid message of another type than the channel carries
    SCHEMA = "schema"  # fields missing, unknown, of the wrong type or out of range


class DecodeError(ValueError):
    """A payload that is not a valid message; ``reason`` is for counting, ``str()`` for people."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@cache
def _adapter(model: Any) -> TypeAdapter[Any]:
    return TypeAdapter(model)


CHANNEL_MESSAGES: dict[Channel, Any] = {
    Channel.STATE: GatewayState,
    Channel.DATA: TelemetryBatch,
    Channel.EVENT: AnomalyEvent,
    Channel.HEALTH: GatewayHealth,
    Channel.CMD: Command,
}
"""Which message each channel carries (``cmd`` carries the discriminated ``Command`` union)."""


def encode(message: BaseModel) -> bytes:
    """Compact JSON bytes for a message (pydantic's Rust serializer writes bytes directly)."""
    return _adapter(type(message)).dump_json(message)


def load_json(payload: bytes | bytearray | memoryview | str, limit: int = MAX_PAYLOAD_BYTES) -> Any:
    """Parse JSON with the size limit; ``DecodeError`` on anything else."""
    # The limit is in bytes: a str counts as its UTF-8 encoding (len() would count characters).
    size = (
        len(payload.encode("utf-8", "surrogatepass"))
        if isinstance(payload, str)
        else memoryview(payload).nbytes
    )
    if size > limit:
        raise DecodeError(RejectReason.TOO_LARGE, f"{size} bytes is over {limit}")
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(RejectReason.NOT_JSON, str(exc)) from None


def _describe(exc: ValidationError, limit: int = 3) -> str:
    parts = []
    for err in exc.errors(include_url=False)[:limit]:
        where = ".".join(str(p) for p in err["loc"]) or "message"
        parts.append(f"{where}: {err['msg']}")
    more = exc.error_count() - limit
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def validate(obj: Any, model: Any) -> Any:
    """Validate parsed JSON as ``model`` (a message class or the ``Command`` union)."""
    if not isinstance(obj, dict):
        raise DecodeError(
            RejectReason.NOT_AN_OBJECT, f"expected an object, got {type(obj).__name__}"
        )
    version = obj.get("v")
    if type(version) is not int or version != SCHEMA_VERSION:
        raise DecodeError(
            RejectReason.UNSUPPORTED_VERSION,
            f"schema version {version!r}; this build speaks version {SCHEMA_VERSION}",
        )
    expected = _expected_tag(model)
    if expected is not None:
        tag = obj.get(expected[0])
        # The tag may be any JSON value; a list or object is unhashable, so test type first.
        if not isinstance(tag, str) or tag not in expected[1]:
            raise DecodeError(
                RejectReason.WRONG_MESSAGE,
                f"{expected[0]}={tag!r}, expected one of {sorted(expected[1])}",
            )
    try:
        return _adapter(model).validate_python(obj)
    except ValidationError as exc:
        raise DecodeError(RejectReason.SCHEMA, _describe(exc)) from None


def decode(payload: bytes | bytearray | memoryview | str, model: type[M]) -> M:
    """Decode and validate one message of type ``model``."""
    return cast(M, validate(load_json(payload), model))


def decode_channel(payload: bytes | bytearray | memoryview | str, channel: Channel) -> Any:
    """Decode a payload as whatever the channel carries."""
    return validate(load_json(payload), CHANNEL_MESSAGES[channel])


def _expected_tag(model: Any) -> tuple[str, frozenset[str]] | None:
    if model is Command:
        return "command", frozenset(COMMAND_MODELS)
    if isinstance(model, type) and issubclass(model, BaseModel) and "msg" in model.model_fields:
        return "msg", frozenset({str(model.model_fields["msg"].default)})
    return None
