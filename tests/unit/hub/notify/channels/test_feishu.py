"""The Feishu bot channel against a local server that checks signatures like Feishu."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from pydantic import SecretStr
from support.http_receiver import HttpReceiver, Recorded, Reply
from support.pages import SteppingClock, fire, page

from hub.notify.channels.feishu import FeishuConfig, FeishuSender
from streetwatch.levels import Level

HOOK = "7d5f2c1e-0b9a-4c3d-8e7f-6a5b4c3d2e1f"
SECRET = "demo-feishu-secret"
OK = {"code": 0, "msg": "success", "data": {}}


def expected_sign(timestamp: str, secret: str = SECRET) -> str:
    """The documented recipe: the key is timestamp + "\\n" + secret, the message is empty."""
    mac = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def feishu_like(request: Recorded) -> Reply:
    if request.path != f"/open-apis/bot/v2/hook/{HOOK}":
        return Reply(
            404, json={"code": 19001, "msg": "param invalid: incoming webhook access token invalid"}
        )
    body = request.json()
    if body.get("sign") != expected_sign(body.get("timestamp", "")):
        return Reply(
            json={
                "code": 19021,
                "msg": "sign match fail or timestamp is not within one hour from current time",
            }
        )
    return Reply(json=OK)


def sender(server: HttpReceiver, clock: SteppingClock, **changes: object) -> FeishuSender:
    values = {
        "base_url": server.url("/open-apis/bot/v2/hook"),
        "hook": SecretStr(HOOK),
        "secret": SecretStr(SECRET),
    } | changes
    return FeishuSender("feishu-huamu", FeishuConfig.model_validate(values), clock=clock)


async def test_posts_a_signed_card_coloured_by_level_with_an_ack_button() -> None:
    clock = SteppingClock()
    notification = page(fire(level=Level.ORANGE))
    async with HttpReceiver(feishu_like) as server, sender(server, clock) as bot:
        delivery = await bot.send(notification)
    assert delivery.ok, delivery.detail
    body = server.requests[0].json()
    assert body["timestamp"] == str(int(clock.t))
    assert body["sign"] == expected_sign(body["timestamp"])
    assert body["msg_type"] == "interactive"
    card = body["card"]
    assert card["header"] == {
        "template": "orange",
        "title": {"tag": "plain_text", "content": notification.message.title},
    }
    markdown, action = card["elements"]
    assert markdown["tag"] == "markdown"
    assert not markdown["content"].startswith("#")
    assert "联洋社区" in markdown["content"]
    assert action == {
        "tag": "action",
        "actions": [
            {
                "tag": "button",
                "text": {"tag": "plain_text", "content": "点击确认收到"},
                "type": "danger",
                "url": notification.message.ack_url,
            }
        ],
    }


async def test_text_mode_sends_the_plain_text() -> None:
    clock = SteppingClock()
    notification = page(language="en")
    async with HttpReceiver(feishu_like) as server, sender(server, clock, msg_type="text") as bot:
        delivery = await bot.send(notification)
    assert delivery.ok, delivery.detail
    body = server.requests[0].json()
    assert set(body) == {"timestamp", "sign", "msg_type", "content"}
    assert body["content"] == {"text": notification.message.text}


async def test_a_wrong_secret_is_refused_like_feishu_does() -> None:
    async with (
        HttpReceiver(feishu_like) as server,
        sender(server, SteppingClock(), secret=SecretStr("other")) as bot,
    ):
        delivery = await bot.send(page())
    assert not delivery.ok
    assert not delivery.retryable
    assert delivery.detail.startswith("code 19021: sign match fail")


@pytest.mark.parametrize(
    ("reply", "retryable"),
    [
        (Reply(json={"code": 11232, "msg": "frequency limited psm"}), True),
        (Reply(json={"code": 9499, "msg": "Bad Request"}), False),
        (Reply(json={"code": 19024, "msg": "Key Words Not Found"}), False),
        (Reply(502, text="upstream"), True),
    ],
)
async def test_platform_answers(reply: Reply, retryable: bool) -> None:
    async with HttpReceiver(lambda _: reply) as server, sender(server, SteppingClock()) as bot:
        delivery = await bot.send(page())
    assert not delivery.ok
    assert delivery.retryable is retryable
