"""The DingTalk robot channel against a local server that checks signatures like DingTalk."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote_plus

import pytest
from pydantic import SecretStr
from support.http_receiver import HttpReceiver, Recorded, Reply
from support.pages import SteppingClock, page, person

from hub.notify.channels.dingtalk import DingtalkConfig, DingtalkSender

TOKEN = "0f6e1a2b3c4d5e6f"
SECRET = "SEC5b4e2e7d0c1f3a9b8e6d4c2a0f1e3d5c7b9a8f6e4d2c0b1a3f5e7d9c8b6a4"
PATH = "/robot/send"


def expected_sign(timestamp: str, secret: str = SECRET) -> str:
    """The documented recipe: HmacSHA256(secret, timestamp + "\\n" + secret), then Base64."""
    mac = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def dingtalk_like(request: Recorded) -> Reply:
    query = request.query  # parse_qsl undoes the urlEncode step
    if query.get("access_token") != TOKEN:
        return Reply(json={"errcode": 300001, "errmsg": "token is not exist"})
    if query.get("sign") != expected_sign(query.get("timestamp", "")):
        return Reply(json={"errcode": 310000, "errmsg": "sign not match"})
    return Reply(json={"errcode": 0, "errmsg": "ok"})


def sender(server: HttpReceiver, clock: SteppingClock, **changes: object) -> DingtalkSender:
    values = {
        "base_url": server.url(PATH),
        "access_token": SecretStr(TOKEN),
        "secret": SecretStr(SECRET),
    } | changes
    return DingtalkSender("dingtalk-huamu", DingtalkConfig.model_validate(values), clock=clock)


async def test_signs_the_url_and_posts_markdown_with_at() -> None:
    clock = SteppingClock()
    notification = page(recipient=person(phone="139 0000-2222"))
    async with (
        HttpReceiver(dingtalk_like) as server,
        sender(server, clock, at_mobiles=["13800001111"], at_recipient=True) as robot,
    ):
        delivery = await robot.send(notification)
    assert delivery.ok, delivery.detail
    [request] = server.requests
    timestamp = str(int(clock.t * 1000))
    assert request.query["timestamp"] == timestamp
    assert f"sign={quote_plus(expected_sign(timestamp))}" in request.raw_query
    assert request.json() == {
        "msgtype": "markdown",
        "markdown": {
            "title": notification.message.title,
            "text": notification.message.markdown + "\n\n@13800001111 @13900002222",
        },
        "at": {"atMobiles": ["13800001111", "13900002222"], "isAtAll": False},
    }


async def test_a_wrong_secret_is_refused_like_dingtalk_does() -> None:
    async with (
        HttpReceiver(dingtalk_like) as server,
        sender(server, SteppingClock(), secret=SecretStr("SECwrong")) as robot,
    ):
        delivery = await robot.send(page())
    assert not delivery.ok
    assert not delivery.retryable
    assert delivery.detail == "errcode 310000: sign not match"


async def test_without_a_secret_no_signature_is_added() -> None:
    async with (
        HttpReceiver() as server,
        sender(server, SteppingClock(), secret=None) as robot,
    ):
        server.script(Reply(json={"errcode": 0, "errmsg": "ok"}))
        delivery = await robot.send(page())
    assert delivery.ok
    assert server.requests[0].query == {"access_token": TOKEN}


@pytest.mark.parametrize(
    ("reply", "retryable"),
    [
        (Reply(json={"errcode": 130101, "errmsg": "send too fast"}), True),
        (Reply(json={"errcode": 300001, "errmsg": "token is not exist"}), False),
        (Reply(503), True),
        (Reply(json={"ok": True}), True),
    ],
)
async def test_platform_answers(reply: Reply, retryable: bool) -> None:
    async with HttpReceiver(lambda _: reply) as server, sender(server, SteppingClock()) as robot:
        delivery = await robot.send(page())
    assert not delivery.ok
    assert delivery.retryable is retryable
