"""Marking a stored message as replayed when it is sent again after an outage or a resend.

The uplink marks every record of a backlog as it sends it, on the event loop, so the cost
matters: decoding a telemetry batch with the shared models and encoding it again takes about
1 ms per 17 KB batch, and an alert-mode batch (every sample streamed) is 40 KB, so a send of 50
backlog records held the loop, and a live alarm behind it, for over 100 ms.

A telemetry batch the edge wrote itself ends with its last field, ``"replayed":false}``
(pydantic writes fields in the model's order, defaults included), and when the payload is a JSON
object that ends so, that is its top-level ``replayed``: nothing nested or quoted can come last.
Such a payload is marked by changing those bytes. Anything else (an event, whose last field is
its detail; a payload from an older schema) goes through the models as before.
"""

from __future__ import annotations

from streetwatch.codec import DecodeError, decode_channel, encode
from streetwatch.messages import AnomalyEvent, TelemetryBatch
from streetwatch.topics import Channel

_NOT_REPLAYED = b',"replayed":false}'
_REPLAYED = b',"replayed":true}'


def mark_replayed(channel: Channel, payload: bytes) -> bytes:
    """The payload with ``replayed: true`` (events and telemetry; others are returned as is)."""
    if channel is Channel.DATA and payload.startswith(b"{") and payload.endswith(_NOT_REPLAYED):
        return payload[: -len(_NOT_REPLAYED)] + _REPLAYED
    if channel not in (Channel.DATA, Channel.EVENT):
        return payload
    try:
        message = decode_channel(payload, channel)
    except DecodeError:
        return payload  # we wrote it; if it no longer decodes the hub will count and say why
    if isinstance(message, TelemetryBatch | AnomalyEvent) and not message.replayed:
        return encode(message.model_copy(update={"replayed": True}))
    return payload
