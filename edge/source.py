"""The gateway's local broker: where Zigbee2MQTT, ChirpStack, Tasmota and JSON devices publish."""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable

import aiomqtt

from edge.mqtt import make_client
from streetwatch.backoff import Backoff
from streetwatch.broker import BrokerConfig
from streetwatch.clock import Clock
from streetwatch.component import Component

log = logging.getLogger(__name__)

OnMessage = Callable[[str, bytes], Awaitable[None]]


class LocalSource(Component):
    """Subscribes to the device topics and hands each message to ``on_message``, in order.

    The session is persistent (a fixed client id, no clean start), so while the agent is down
    (restarting after a crash, an update) the local broker keeps what the devices publish for
    it, and the next run gets it first: an alarm published in those seconds is late, not lost.
    The broker keeps QoS 1 publishes; for QoS 0 ones (Zigbee2MQTT's default) it needs
    ``queue_qos0_messages true`` (docs/edge.md §3.2), and it keeps at most
    ``max_queued_messages``.
    """

    def __init__(
        self,
        config: BrokerConfig,
        subscriptions: list[str],
        on_message: OnMessage,
        *,
        identifier: str,
        clock: Clock,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.subscriptions = subscriptions
        self._on_message = on_message
        self._identifier = identifier
        self.clock = clock
        self._backoff = Backoff(1.0, 30.0, rng)
        self._client: aiomqtt.Client | None = None
        self.connected = False

    async def start(self) -> None:
        self.spawn(self._loop(), "subscribe")

    async def publish(self, topic: str, payload: bytes) -> None:
        """Publish on the local broker (the siren); raises when the broker is unreachable."""
        if self._client is None:
            raise ConnectionError("the local broker is not connected")
        await self._client.publish(topic, payload, qos=1)

    async def _loop(self) -> None:

        while True:
            client = make_client(self.config, identifier=self._identifier, persistent=True)
            try:
                async with client:
                    for topic in self.subscriptions:
                        await client.subscribe(topic, qos=1)
                    self._client = client
                    self.connected = True
                    log.info(
                        "local broker %s:%s: subscribed to %s",
                        self.config.host,
                        self.config.port,
                        ", ".join(self.subscriptions),
                    )
                    self._backoff.reset()
                    async for message in client.messages:
                        raw = message.payload
                        payload = raw if isinstance(raw, bytes) else bytes(str(raw or ""), "utf-8")
                        await self._on_message(str(message.topic), payload)
            except aiomqtt.MqttError as exc:
                log.warning("local broker lost: %s", exc)
            finally:
                self._client = None
                self.connected = False
            await self.clock.sleep(self._backoff.next_delay())
