"""Marking a stored message as replayed when it is sent again after an outage or a resend."""

from __future__ import annotations

from streetwatch.codec import DecodeError, decode_channel, encode
from streetwatch.messages import AnomalyEvent, TelemetryBatch
from streetwatch.topics import Channel


def mark_replayed(channel: Channel, payload: bytes) -> bytes:
    """The payload with ``replayed: true`` (events and telemetry; others are returned as is)."""
    if channel not in (Channel.DATA, Channel.EVENT):
        return payload
    try:
        message = decode_channel(payload, channel)
    except DecodeError:
        return payload  # we wrote it; if it no longer decodes the hub will count and say why
    if isinstance(message, TelemetryBatch | AnomalyEvent) and not message.replayed:
        return encode(message.model_copy(update={"replayed": True}))
    return payload
