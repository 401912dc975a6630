"""The hub's MQTT session: persistent, QoS 1, and acknowledged only when the hub says so.

* MQTT 5 with clean start off and a session expiry: while the hub is down or restarting, the
  broker keeps its subscriptions and queues what gateways publish (up to the broker's
  ``max_queued_messages``; ``deploy/mosquitto/streetwatch-hub.conf`` sizes it).
* Manual acknowledgement: paho-mqtt acknowledges a QoS 1 message as soon as the callback returns
  unless ``manual_ack`` is on. The hub turns it on and sends each PUBACK only after the message's
  data is durable (stored, or in the hub's spool), so killing the hub at any moment loses
  nothing: unacknowledged messages are delivered again by the broker when the hub is back.
  aiomqtt does not expose the switch, so this module reaches its paho client (the one place).
* ``receive_maximum`` bounds what the broker has in flight to the hub; the rest waits in the
  broker's queue, and beyond that in the gateways' outboxes: backpressure, not loss.
* ``connected`` is set while a session is up; ``on_connection_change`` (if given) is told of
  each change, before the first message of a new session is handed over.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hub.config import HubMqttConfig
from streetwatch.backoff import Backoff
from streetwatch.broker import tls_context
from streetwatch.clock import Clock
from streetwatch.component import Component
from streetwatch.topics import Channel, TopicTree

log = logging.getLogger(__name__)

SUBSCRIBED = (Channel.STATE, Channel.DATA, Channel.EVENT, Channel.HEALTH)


@dataclass(slots=True)
class Incoming:
    """One message from the broker, to be acknowledged once it is durable."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    mid: int
    session: int  # which connection it came on: an ack on a later one would be wrong

    def __repr__(self) -> str:
        return f"Incoming({self.topic}, {len(self.payload)} B, mid={self.mid})"


class HubLink(Component):
    def __init__(
        self,
        config: HubMqttConfig,
        *,
        client_id: str,
        on_message: Callable[[Incoming], Awaitable[None]],
        clock: Clock,
        on_connection_change: Callable[[bool], None] | None = None,
    ) -> None:
        self.config = config
        self.client_id = client_id
        self.topics = TopicTree(config.topic_prefix)
        self._on_message = on_message
        self.on_connection_change = on_connection_change
        self.clock = clock
        self.connected = asyncio.Event()
        self.reconnects = 0
        self._client: aiomqtt.Client | None = None
        self._session = 0
        self._lost = asyncio.Event()  # set when the current connection ends
        self._backoff = Backoff(0.5, 30.0)

    async def start(self) -> None:
        self.spawn(self._run(), "session")

    @property
    def backlog(self) -> int:
        """Messages received from the broker and not yet handed to the intake."""
        client = self._client
        return len(client.messages) if client is not None else 0

    def ack(self, message: Incoming) -> None:
        """Acknowledge ``message`` to the broker (nothing if its connection is gone)."""
        client = self._client
        if client is None or message.qos == 0 or message.session != self._session:
            return
        client._client.ack(message.mid, message.qos)

    async def publish(
        self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False
    ) -> None:
        """Publish now; raises ``aiomqtt.MqttError`` when not connected, and as soon as the
        connection is lost before the broker acknowledged (aiomqtt alone would wait out its 10 s
        timeout, and its callers, the incident board among them, with it)."""
        client, lost = self._client, self._lost
        if client is None:
            raise aiomqtt.MqttError("not connected to the broker")
        publishing = asyncio.ensure_future(client.publish(topic, payload, qos=qos, retain=retain))
        publishing.add_done_callback(_retrieve)
        ending = asyncio.ensure_future(lost.wait())
        try:
            done, _ = await asyncio.wait((publishing, ending), return_when=asyncio.FIRST_COMPLETED)
        finally:
            ending.cancel()
            if not publishing.done():
                publishing.cancel()
        if publishing not in done:
            raise aiomqtt.MqttError("connection lost before the broker acknowledged")
        publishing.result()

    def _make_client(self) -> aiomqtt.Client:
        c = self.config
        client = aiomqtt.Client(
            c.host,
            c.port,
            username=c.username,
            password=c.password.get_secret_value() if c.password else None,
            identifier=self.client_id,
            **_session(c),
            keepalive=c.keepalive_s,
            tls_context=tls_context(c),
            timeout=10.0,
            max_inflight_messages=200,
        )
        client._client.manual_ack_set(True)
        client.pending_calls_threshold = 1000
        return client

    async def _run(self) -> None:
        filters = [f for s in self.config.scopes() for f in self.topics.filters(s, SUBSCRIBED)]
        while True:
            try:
                async with self._make_client() as client:
                    self._session += 1
                    self._client, self._lost = client, asyncio.Event()
                    for f in filters:
                        await client.subscribe(f, qos=1)
                    self._set_connected(True)
                    self._backoff.reset()
                    log.info(
                        "hub connected to mqtt://%s:%d, %d filters",
                        self.config.host,
                        self.config.port,
                        len(filters),
                    )
                    session = self._session
                    async for m in client.messages:
                        payload = m.payload if isinstance(m.payload, bytes) else b""
                        await self._on_message(
                            Incoming(str(m.topic), payload, m.qos, m.retain, m.mid, session)
                        )
            except aiomqtt.MqttError as exc:
                log.warning("mqtt connection lost (%s); reconnecting", exc)
            finally:
                self._client = None
                self._lost.set()
                if self.connected.is_set():
                    self._set_connected(False)
            self.reconnects += 1
            await self.clock.sleep(self._backoff.next_delay())

    def _set_connected(self, up: bool) -> None:
        if up:
            self.connected.set()
        else:
            self.connected.clear()
        if self.on_connection_change is not None:
            self.on_connection_change(up)


def _retrieve(task: asyncio.Future[None]) -> None:
    """Mark a publish's outcome as seen: one given up on may still fail later."""
    if not task.cancelled():
        task.exception()


def _session(c: HubMqttConfig) -> dict[str, Any]:
    """A persistent session in the config's MQTT version: MQTT 5 with its expiry and receive
    maximum; MQTT 3.1.1 (e.g. the demo's pure-Python broker) with ``clean_session=False``."""
    if c.protocol == "3.1.1":
        return {"protocol": aiomqtt.ProtocolVersion.V311, "clean_session": False}
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = c.session_expiry_s
    properties.ReceiveMaximum = c.receive_maximum
    return {
        "protocol": aiomqtt.ProtocolVersion.V5,
        "clean_start": False,
        "properties": properties,
    }
