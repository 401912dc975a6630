"""The WeCom robot channel against a local server that answers like qyapi.weixin.qq.com."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError
from support.http_receiver import HttpReceiver, Recorded, Reply
from support.pages import page, person

from hub.notify.channels.wecom import WecomConfig, WecomSender

KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
PATH = "/cgi-bin/webhook/send"


def wecom_like(request: Recorded) -> Reply:
    """What the robot API answers (errcode 0 only for a known key and a well-formed body)."""
    if request.query.get("key") != KEY:
        return Reply(json={"errcode": 93000, "errmsg": "invalid webhook url"})
    body = request.json()
    content = body.get(body.get("msgtype"), {}).get("content", "")
    limit = {"markdown": 4096, "text": 2048}.get(body.get("msgtype"))
    if limit is None or not content or len(content.encode()) > limit:
        return Reply(json={"errcode": 40008, "errmsg": "invalid message type"})
    return Reply(json={"errcode": 0, "errmsg": "ok"})


def sender(server: HttpReceiver, key: str = KEY, **changes: object) -> WecomSender:
    values = {"base_url": server.url(PATH), "key": SecretStr(key)} | changes
    return WecomSender("wecom-huamu", WecomConfig.model_validate(values))


async def test_posts_markdown_to_the_robot_url_with_its_key() -> None:
    notification = page()
    async with HttpReceiver(wecom_like) as server, sender(server) as robot:
        delivery = await robot.send(notification)
    assert delivery.ok, delivery.detail
    [request] = server.requests
    assert (request.method, request.path, request.query) == ("POST", PATH, {"key": KEY})
    assert request.headers["content-type"].startswith("application/json")
    assert request.json() == {
        "msgtype": "markdown",
        "markdown": {"content": notification.message.markdown},
    }


async def test_mentions_go_as_text_with_mentioned_mobile_list() -> None:
    notification = page(recipient=person(phone="139 0000-2222"))
    async with (
        HttpReceiver(wecom_like) as server,
        sender(server, mention_mobiles=["13800001111"], mention_recipient=True) as robot,
    ):
        delivery = await robot.send(notification)
    assert delivery.ok, delivery.detail
    assert server.requests[0].json() == {
        "msgtype": "text",
        "text": {
            "content": notification.message.text,
            "mentioned_mobile_list": ["13800001111", "13900002222"],
        },
    }


async def test_a_wrong_key_is_a_refusal_with_the_platform_message() -> None:
    async with HttpReceiver(wecom_like) as server, sender(server, key="nope") as robot:
        delivery = await robot.send(page())
    assert not delivery.ok
    assert not delivery.retryable
    assert delivery.detail == "errcode 93000: invalid webhook url"


@pytest.mark.parametrize(
    ("reply", "retryable"),
    [
        (Reply(json={"errcode": 45009, "errmsg": "api freq out of limit"}), True),
        (Reply(json={"errcode": -1, "errmsg": "system busy"}), True),
        (Reply(json={"errcode": 40058, "errmsg": "invalid content"}), False),
        (Reply(500, text="bad gateway"), True),
        (Reply(404), False),
        (Reply(text="<html>login</html>"), True),
    ],
)
async def test_platform_answers(reply: Reply, retryable: bool) -> None:
    async with HttpReceiver(lambda _: reply) as server, sender(server) as robot:
        delivery = await robot.send(page())
    assert not delivery.ok
    assert delivery.retryable is retryable


async def test_a_slow_robot_api_times_out() -> None:
    async with (
        HttpReceiver(lambda _: Reply(delay_s=30)) as server,
        sender(server, timeout_s=0.2) as robot,
    ):
        delivery = await robot.send(page())
    assert not delivery.ok
    assert delivery.retryable
    assert "no answer" in delivery.detail


def test_mention_mobiles_must_be_numbers_or_all() -> None:
    with pytest.raises(ValidationError, match="mention_mobiles"):
        WecomConfig(key=SecretStr(KEY), mention_mobiles=["wang"])
    assert WecomConfig(key=SecretStr(KEY), mention_mobiles=["@all"]).mention_mobiles == ["@all"]
