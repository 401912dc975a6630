"""The SMS gateway channel: templates filled per page, success read from the answer."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr, ValidationError
from support.http_receiver import HttpReceiver, Reply
from support.pages import ACK_URL, page, person

from hub.notify.channels.sms import SmsConfig, SmsSender

TOKEN = "gw-api-key-123"


def sender(server: HttpReceiver, **values: Any) -> SmsSender:
    data = {
        "url": server.url("/api/send"),
        "token": SecretStr(TOKEN),
        "body": {"to": "{phone}", "text": "{text}"},
    } | values
    return SmsSender("sms-gw", SmsConfig.model_validate(data))


async def test_json_template_with_token_and_success_field() -> None:
    notification = page()
    config = {
        "headers": {"Authorization": "Bearer {token}"},
        "body": {"to": ["{phone}"], "content": "{text}", "meta": {"incident": "{incident}"}},
        "success_field": "result.code",
        "success_value": "0",
    }
    async with HttpReceiver() as server, sender(server, **config) as sms:
        server.script(Reply(json={"result": {"code": 0, "msg": "queued"}}))
        delivery = await sms.send(notification)
    assert delivery.ok, delivery.detail
    [request] = server.requests
    assert request.method == "POST"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.json() == {
        "to": ["13800001111"],
        "content": notification.message.sms,
        "meta": {"incident": "inc-1"},
    }
    short, link = notification.message.sms.rsplit(" ", 1)
    assert link == ACK_URL
    assert len(short) <= 70


async def test_form_body_with_the_number_in_plain_digits() -> None:
    config = {
        "body_format": "form",
        "body": {"mobile": "{phone}", "msg": "{text}", "lv": "{level}"},
    }
    async with HttpReceiver() as server, sender(server, **config) as sms:
        delivery = await sms.send(page(recipient=person(phone="138 0000-1111")))
    assert delivery.ok
    request = server.requests[0]
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form()["mobile"] == "13800001111"
    assert request.form()["lv"] == "red"
    assert request.form()["msg"].endswith(ACK_URL)


async def test_get_with_url_encoded_values() -> None:
    notification = page()
    async with HttpReceiver() as server:
        url = server.url("/send?u=sw&p={token}&to={phone}&m={text}")
        async with sender(server, method="GET", url=url, body_format="none", body={}) as sms:
            delivery = await sms.send(notification)
    assert delivery.ok
    request = server.requests[0]
    assert request.method == "GET"
    assert request.query == {
        "u": "sw",
        "p": TOKEN,
        "to": "13800001111",
        "m": notification.message.sms,
    }


@pytest.mark.parametrize(
    ("answer", "detail"),
    [
        ({"result": {"code": 15, "msg": "number blocked"}}, "result.code = 15, expected 0"),
        ({"error": "bad"}, "no result.code, expected 0"),
    ],
)
async def test_an_unexpected_success_field_is_a_retryable_failure(
    answer: dict[str, Any], detail: str
) -> None:
    config = {"success_field": "result.code", "success_value": "0"}
    async with (
        HttpReceiver(lambda _: Reply(json=answer)) as server,
        sender(server, **config) as sms,
    ):
        delivery = await sms.send(page())
    assert not delivery.ok
    assert delivery.retryable
    assert delivery.detail.startswith(detail)


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (503, True), (400, False)])
async def test_http_status(status: int, retryable: bool) -> None:
    async with HttpReceiver(lambda _: Reply(status)) as server, sender(server) as sms:
        delivery = await sms.send(page())
    assert not delivery.ok
    assert delivery.retryable is retryable
    assert delivery.status == status


async def test_a_person_without_phone_is_not_retryable_and_nothing_is_sent() -> None:
    async with HttpReceiver() as server, sender(server) as sms:
        delivery = await sms.send(page(recipient=person(phone=None)))
    assert not delivery.ok
    assert not delivery.retryable
    assert "no phone" in delivery.detail
    assert server.requests == []


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"body": {"to": "{mobile}"}}, "unknown placeholders"),
        ({"method": "GET", "body": {"to": "{phone}", "m": "{text}"}}, "GET request has no body"),
        ({"success_field": "code", "body": {"to": "{phone}", "m": "{text}"}}, "together"),
        ({"body_format": "none", "body": {"a": "{phone}{text}"}}, "empty body"),
        ({"body": {"to": "{phone}"}}, "must carry"),
        ({"body": {"text": "{text}"}}, "must carry"),
        ({"body_format": "form", "body": {"a": ["{phone}"], "m": "{text}"}}, "form body"),
    ],
)
def test_config_refuses(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SmsConfig.model_validate({"url": "https://sms.example.cn/send"} | values)
