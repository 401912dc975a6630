"""The hub's side of the edge protocol, reduced to what edge tests need.

A real MQTT client on a real broker: it keeps a persistent session, records every message a
gateway sends (decoded with the shared models), and confirms stored sequence numbers back on
the gateway's ``cmd/confirm`` topic, as the hub does. It stores nothing anywhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import aiomqtt

from streetwatch.codec import DecodeError, decode_channel, encode
from streetwatch.messages import AnomalyEvent, Confirm, GatewayState, TelemetryBatch
from streetwatch.topics import Channel, GatewayTopic, Scope, TopicTree


@dataclass
class Received:
    channel: Channel
    message: Any
    topic: GatewayTopic


@dataclass
class HubPeer:
    host: str
    port: int
    prefix: str
    client_id: str
    confirm: bool = True
    log: list[Received] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    @property
    def topics(self) -> TopicTree:
        return TopicTree(self.prefix)

    def events(self) -> list[AnomalyEvent]:
        return [r.message for r in self.log if isinstance(r.message, AnomalyEvent)]

    def batches(self) -> list[TelemetryBatch]:
        return [r.message for r in self.log if isinstance(r.message, TelemetryBatch)]

    def states(self) -> list[GatewayState]:
        return [r.message for r in self.log if isinstance(r.message, GatewayState)]

    async def wait_for(self, predicate: Any, within_s: float = 20.0) -> None:
        """Wait until ``predicate(self)`` holds, re-checking on every received message."""
        async with asyncio.timeout(within_s):
            while not predicate(self):
                self.changed.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.5):
                        await self.changed.wait()

    async def __aenter__(self) -> HubPeer:
        self._task = asyncio.create_task(self._run(), name="hub-peer")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        tree = self.topics
        filters = tree.filters(
            Scope(), (Channel.STATE, Channel.DATA, Channel.EVENT, Channel.HEALTH)
        )
        while True:
            try:
                async with aiomqtt.Client(
                    self.host, self.port, identifier=self.client_id, clean_session=False
                ) as client:
                    for f in filters:
                        await client.subscribe(f, qos=1)
                    async for message in client.messages:
                        await self._on_message(client, str(message.topic), message.payload)
            except aiomqtt.MqttError:
                await asyncio.sleep(0.2)

    async def _on_message(self, client: aiomqtt.Client, topic: str, payload: Any) -> None:
        parsed = self.topics.parse(topic)
        assert isinstance(parsed, GatewayTopic)
        try:
            message = decode_channel(bytes(payload), parsed.channel)
        except DecodeError as exc:
            self.rejected.append(str(exc))
            return
        self.log.append(Received(parsed.channel, message, parsed))
        self.changed.set()
        seq = getattr(message, "seq", None)
        if self.confirm and seq is not None and parsed.channel is not Channel.STATE:
            confirm = Confirm(
                t=0, boot=message.boot, channel=parsed.channel.value, ranges=((seq, seq),)
            )
            cmd = tree_cmd(self.topics, parsed, "confirm")
            await client.publish(cmd, encode(confirm), qos=1)


def tree_cmd(tree: TopicTree, t: GatewayTopic, name: str) -> str:
    return tree.gateway(t.district, t.street, t.gateway, Channel.CMD, name)


def seqs_by_channel(log: list[Received]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for r in log:
        seq = getattr(r.message, "seq", None)
        if seq is not None:
            out[r.channel.value].append(seq)
    return out
