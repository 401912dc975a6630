"""The hub's side of the edge protocol for the edge benchmarks: record, time and confirm.

Not a benchmark. ``ConfirmingPeer`` is the tests' ``HubPeer`` (tests/support/hub_peer.py: a
real MQTT client with a persistent session that decodes every gateway message with the shared
models) with two changes: it notes when each message arrived (``arrivals[i]`` is the
``time.perf_counter()`` of ``log[i]``), and it confirms as the hub does, through the hub's own
``Confirmer`` (hub/ingest/confirmer.py): sequence numbers merged into ranges and published once
per ``interval_s``, not one command per message. Unlike the hub it confirms on receipt, before
storing anything, so a drain it confirms is as fast as the gateway side allows.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import aiomqtt

from hub.ingest.confirmer import Confirmer, GatewayAddress
from streetwatch.clock import SystemClock
from streetwatch.codec import encode
from streetwatch.messages import Confirm, Resend
from streetwatch.topics import Channel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.hub_peer import HubPeer


class ConfirmingPeer(HubPeer):
    def __init__(self, host: str, port: int, client_id: str, interval_s: float = 1.0) -> None:
        super().__init__(host, port, "", client_id, confirm=False)
        self.arrivals: list[float] = []
        self._client: aiomqtt.Client | None = None
        self.confirmer = Confirmer(self._command, clock=SystemClock(), interval_s=interval_s)

    async def __aenter__(self) -> ConfirmingPeer:
        await self.confirmer.__aenter__()
        await super().__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await super().__aexit__(*exc)
        self._client = None  # the last flush has nowhere to go
        await self.confirmer.__aexit__(None, None, None)

    async def _on_message(self, client: aiomqtt.Client, topic: str, payload: Any) -> None:
        self._client = client
        before = len(self.log)
        await super()._on_message(client, topic, payload)
        if len(self.log) == before:
            return
        self.arrivals.append(time.perf_counter())
        received = self.log[-1]
        seq = getattr(received.message, "seq", None)
        if seq is not None and received.channel is not Channel.STATE:
            t = received.topic
            where = GatewayAddress(t.district, t.street, t.gateway)
            self.confirmer.confirm(where, received.message.boot, received.channel.value, seq)

    async def _command(self, where: GatewayAddress, command: Confirm | Resend) -> None:
        client = self._client
        if client is None:
            raise aiomqtt.MqttError("the peer is not connected")
        topic = self.topics.gateway(
            where.district, where.street, where.gateway, Channel.CMD, command.command
        )
        await client.publish(topic, encode(command), qos=1)
