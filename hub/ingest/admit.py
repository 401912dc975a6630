"""Admission: a topic and a payload become a checked wire message, or a counted refusal.

Checks, in order: the topic is one of ours on a gateway channel; the payload decodes with the
shared models (size, JSON, version, schema: ``streetwatch.codec``; a batch of raw readings with
``streetwatch.fast_telemetry``, which accepts only what the models accept); the payload's
gateway is the topic's gateway (one gateway may not speak for another: with broker ACLs the
topic is who the publisher is). Where the gateway claims to be (its birth) is checked by the
registry.
"""

from __future__ import annotations

from dataclasses import dataclass

from streetwatch.codec import DecodeError, decode_channel
from streetwatch.fast_telemetry import FastBatch, decode_readings
from streetwatch.messages import AnomalyEvent, GatewayHealth, GatewayState, TelemetryBatch
from streetwatch.topics import Channel, GatewayTopic, TopicError, TopicTree

GatewayMessage = TelemetryBatch | AnomalyEvent | GatewayHealth | GatewayState
Message = GatewayMessage | FastBatch


@dataclass(frozen=True, slots=True)
class Admitted:
    topic: GatewayTopic
    message: Message


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: str  # a short code for counters: not_json, schema, impersonation...
    detail: str  # a sentence for the operator


def admit(tree: TopicTree, topic: str, payload: bytes) -> Admitted | Refusal:
    try:
        parsed = tree.parse(topic)
    except TopicError as exc:
        return Refusal("bad_topic", str(exc))
    if not isinstance(parsed, GatewayTopic) or parsed.channel is Channel.CMD:
        return Refusal("bad_topic", f"{topic} is not a gateway's state, data, event or health")
    fast = decode_readings(payload) if parsed.channel is Channel.DATA else None
    if fast is not None and fast.gateway == parsed.gateway:
        return Admitted(parsed, fast)
    try:  # everything but a plain batch of readings, and every refusal, by the shared models
        message = decode_channel(payload, parsed.channel)
    except DecodeError as exc:
        return Refusal(str(exc.reason), str(exc))
    if not isinstance(message, GatewayMessage):
        return Refusal("wrong_message", f"{type(message).__name__} on {parsed.channel} channel")
    if message.gateway != parsed.gateway:
        return Refusal(
            "impersonation",
            f"gateway {message.gateway!r} published on {parsed.gateway!r}'s topic {topic}",
        )
    return Admitted(parsed, message)
