"""The MQTT channel on a real Mosquitto: each page at QoS 1 on the responder's own topic."""

from __future__ import annotations

import asyncio

import aiomqtt
from support.http_receiver import closed_port
from support.pages import SteppingClock, page, person
from support.services import MosquittoService

from hub.notify.channels._payload import PagePayload
from hub.notify.channels.mqtt import MqttConfig, MqttSender
from streetwatch.broker import BrokerConfig


def sender(host: str, port: int, prefix: str, **values: object) -> MqttSender:
    config = MqttConfig.model_validate(
        {"broker": BrokerConfig(host=host, port=port), "prefix": prefix} | values
    )
    return MqttSender("app", config, clock=SteppingClock())


async def received(client: aiomqtt.Client, count: int) -> list[aiomqtt.Message]:
    out: list[aiomqtt.Message] = []
    async with asyncio.timeout(10):
        async for message in client.messages:
            out.append(message)
            if len(out) == count:
                return out
    return out


async def test_each_page_lands_on_the_responders_topic_at_qos_1(
    mosquitto: MosquittoService, topic_prefix: str
) -> None:
    first, second = page(), page(recipient=person(id="p-8", extra={"app": "li-device-3"}))
    async with aiomqtt.Client(mosquitto.host, mosquitto.port) as app:
        await app.subscribe(f"{topic_prefix}/sw/v1/responders/#", qos=1)
        async with sender(mosquitto.host, mosquitto.port, topic_prefix) as channel:
            deliveries = [await channel.send(first), await channel.send(second)]
        messages = await received(app, 2)
    assert [d.ok for d in deliveries] == [True, True]
    topics = [f"{topic_prefix}/sw/v1/responders/{who}" for who in ("p-7", "li-device-3")]
    assert [str(m.topic) for m in messages] == topics
    assert [d.detail for d in deliveries] == topics
    assert {m.qos for m in messages} == {1}
    assert not any(m.retain for m in messages)
    assert isinstance(messages[0].payload, bytes)
    payload = PagePayload.model_validate_json(messages[0].payload)
    assert payload.recipient.id == "p-7"
    assert payload.incident.id == "inc-1"
    assert payload.ack_url == first.message.ack_url
    assert payload.message.text == first.message.text


async def test_a_topic_template_with_the_street(
    mosquitto: MosquittoService, topic_prefix: str
) -> None:
    template = "{prefix}/sw/v1/responders/{district}/{street}/{recipient}"
    async with aiomqtt.Client(mosquitto.host, mosquitto.port) as app:
        await app.subscribe(f"{topic_prefix}/#", qos=1)
        async with sender(mosquitto.host, mosquitto.port, topic_prefix, topic=template) as channel:
            delivery = await channel.send(page())
        [message] = await received(app, 1)
    assert delivery.ok
    assert str(message.topic) == f"{topic_prefix}/sw/v1/responders/pudong/huamu/p-7"


async def test_an_address_unfit_for_a_topic_is_refused(
    mosquitto: MosquittoService, topic_prefix: str
) -> None:
    async with sender(mosquitto.host, mosquitto.port, topic_prefix) as channel:
        delivery = await channel.send(page(recipient=person(id="p-7/#")))
    assert not delivery.ok
    assert not delivery.retryable
    assert "'#'" in delivery.detail


async def test_no_broker_is_retryable(topic_prefix: str) -> None:
    async with sender("127.0.0.1", closed_port(), topic_prefix, timeout_s=2) as channel:
        delivery = await channel.send(page())
    assert not delivery.ok
    assert delivery.retryable
