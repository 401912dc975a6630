"""The ``mqtt`` sender: the page (``PagePayload`` JSON) at QoS 1 on the person's own topic.

A responder app subscribes to its topic (by default ``[prefix/]sw/v1/responders/<id>``) and
shows the page; the acknowledgement goes back through the one-tap link. ``send`` returns once the
broker has answered PUBACK. The sender holds one client (``aiomqtt``) for its lifetime: it
connects on the first page and after a lost connection connects again on the next one. Every
value put into the topic must be a slug, so no page can land on another person's topic.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Self

import aiomqtt
from pydantic import BaseModel

from hub.notify.base import Delivery, Notification, Sender, channel
from hub.notify.channels._payload import PagePayload
from hub.notify.channels.mqtt.config import PLACEHOLDER, MqttConfig
from streetwatch.broker import tls_context
from streetwatch.clock import Clock, SystemClock, now_ms
from streetwatch.ids import InvalidSlugError, check_slug


def responder_topic(config: MqttConfig, notification: Notification, channel_name: str) -> str:
    """The topic of one page; ``InvalidSlugError`` if a value is not fit for a topic."""
    person, incident = notification.recipient, notification.incident
    values = {
        "prefix": config.prefix,
        "recipient": person.extra.get(channel_name, person.id),
        "role": person.role,
        "district": incident.district,
        "street": incident.street or "",
    }
    for part in config.prefix.split("/") if config.prefix else ():
        check_slug(part, "topic prefix segment")
    for key in ("recipient", "role", "district", "street"):
        if f"{{{key}}}" in config.topic:
            check_slug(values[key], key)
    topic = PLACEHOLDER.sub(lambda m: values[m.group(1)], config.topic)
    return "/".join(segment for segment in topic.split("/") if segment)


class MqttSender:
    def __init__(self, name: str, config: MqttConfig, *, clock: Clock | None = None) -> None:
        self.name = name
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self._client: aiomqtt.Client | None = None
        self._connecting = asyncio.Lock()  # concurrent pages share one connection

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._disconnect()

    async def _connect(self) -> aiomqtt.Client:
        async with self._connecting:
            if self._client is not None:
                return self._client
            broker = self.config.broker
            client = aiomqtt.Client(
                broker.host,
                broker.port,
                username=broker.username,
                password=broker.password.get_secret_value() if broker.password else None,
                keepalive=broker.keepalive_s,
                tls_context=tls_context(broker),
                timeout=self.config.timeout_s,
            )
            await client.__aenter__()
            self._client = client
            return client

    async def _disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(aiomqtt.MqttError):  # already gone
                await client.__aexit__(None, None, None)

    async def send(self, notification: Notification) -> Delivery:
        try:
            topic = responder_topic(self.config, notification, self.name)
        except InvalidSlugError as exc:
            return Delivery(ok=False, channel=self.name, detail=str(exc), retryable=False)
        payload = PagePayload.of(notification, now_ms(self.clock)).body()
        try:
            client = await self._connect()
            await client.publish(
                topic, payload, qos=1, retain=self.config.retain, timeout=self.config.timeout_s
            )
        except aiomqtt.MqttError as exc:
            await self._disconnect()
            return Delivery(ok=False, channel=self.name, detail=f"{topic}: {exc}", retryable=True)
        return Delivery(ok=True, channel=self.name, detail=topic)


@channel("mqtt", MqttConfig)
def build(name: str, config: BaseModel, clock: Clock) -> Sender:
    if not isinstance(config, MqttConfig):
        raise TypeError(f"mqtt channel {name!r} needs an MqttConfig")
    return MqttSender(name, config, clock=clock)
