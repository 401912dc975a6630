"""The webhook channel against a real local receiver: signed JSON, retries, refusals."""

from __future__ import annotations

import hashlib
import hmac
import random

import pytest
from pydantic import SecretStr, ValidationError
from support.http_receiver import HttpReceiver, Reply, closed_port
from support.pages import ACK_URL, SteppingClock, page

from hub.notify.base import CHANNELS
from hub.notify.channels._payload import PagePayload
from hub.notify.channels.webhook import WebhookConfig, WebhookSender
from streetwatch.clock import ManualClock

SECRET = "s3cret-shared-with-the-duty-system"


def config(url: str, **changes: object) -> WebhookConfig:
    values: dict[str, object] = {"url": url, "secret": SecretStr(SECRET)} | changes
    return WebhookConfig.model_validate(values)


def sender(url: str, clock: SteppingClock, **changes: object) -> WebhookSender:
    return WebhookSender("duty", config(url, **changes), clock=clock, rng=random.Random(7))


async def test_posts_the_page_as_json_signed_over_timestamp_and_body() -> None:
    clock = SteppingClock()
    async with HttpReceiver() as server, sender(server.url("/hooks/sw"), clock) as hook:
        delivery = await hook.send(page(attempt=2))
    assert delivery.ok
    assert delivery.status == 200
    assert delivery.channel == "duty"
    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/hooks/sw")
    assert request.headers["content-type"] == "application/json"
    timestamp = request.headers["x-streetwatch-timestamp"]
    assert timestamp == str(int(clock.t))
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256)
    assert request.headers["x-streetwatch-signature"] == f"sha256={expected.hexdigest()}"
    assert request.headers["x-streetwatch-delivery"] == "inc-1:p-7:2"
    payload = PagePayload.model_validate_json(request.body)
    assert payload.v == 1
    assert payload.ack_url == ACK_URL == payload.message.ack_url
    assert (payload.incident.id, payload.incident.level, payload.incident.metric) == (
        "inc-1",
        "red",
        "smoke_density",
    )
    assert (payload.incident.value, payload.incident.threshold) == (0.35, 0.2)
    assert payload.recipient.id == "p-7"
    assert payload.attempt == 2
    assert payload.sent_at == int(clock.t * 1000)
    assert "点击确认收到" in payload.message.text


async def test_retries_5xx_with_backoff_and_signs_each_try_anew() -> None:
    clock = SteppingClock()
    async with HttpReceiver() as server, sender(server.url(), clock) as hook:
        server.script(Reply(502), Reply(503))
        delivery = await hook.send(page())
    assert delivery.ok
    assert "try 3" in delivery.detail
    assert len(server.requests) == 3
    assert len(clock.sleeps) == 2
    assert all(0 < s <= 4.0 for s in clock.sleeps)
    assert len({r.body for r in server.requests}) == 1, "one page, one body"
    assert len({r.headers["x-streetwatch-delivery"] for r in server.requests}) == 1
    for request in server.requests:
        timestamp = request.headers["x-streetwatch-timestamp"]
        mac = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256)
        assert request.headers["x-streetwatch-signature"] == f"sha256={mac.hexdigest()}"


async def test_gives_up_after_the_last_attempt_still_retryable() -> None:
    clock = SteppingClock()
    async with HttpReceiver(lambda _: Reply(500)) as server, sender(server.url(), clock) as hook:
        delivery = await hook.send(page())
    assert not delivery.ok
    assert delivery.retryable
    assert delivery.status == 500
    assert len(server.requests) == 3
    assert len(clock.sleeps) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
async def test_a_4xx_is_final(status: int) -> None:
    clock = SteppingClock()
    async with HttpReceiver(lambda _: Reply(status)) as server, sender(server.url(), clock) as hook:
        delivery = await hook.send(page())
    assert not delivery.ok
    assert not delivery.retryable
    assert delivery.status == status
    assert len(server.requests) == 1
    assert clock.sleeps == []


async def test_429_is_retried() -> None:
    clock = SteppingClock()
    async with HttpReceiver() as server, sender(server.url(), clock, attempts=2) as hook:
        server.script(Reply(429))
        delivery = await hook.send(page())
    assert delivery.ok
    assert len(server.requests) == 2


async def test_a_slow_receiver_times_out_and_is_retried() -> None:
    clock = SteppingClock()
    slow = Reply(delay_s=30)
    async with (
        HttpReceiver(lambda _: slow) as server,
        sender(server.url(), clock, timeout_s=0.2, attempts=2) as hook,
    ):
        delivery = await hook.send(page())
    assert not delivery.ok
    assert delivery.retryable
    assert "no answer within 0.2 s" in delivery.detail
    assert len(server.requests) == 2


async def test_nobody_listening_is_retryable() -> None:
    clock = SteppingClock()
    async with sender(f"http://127.0.0.1:{closed_port()}/", clock, attempts=1) as hook:
        delivery = await hook.send(page())
    assert not delivery.ok
    assert delivery.retryable
    assert delivery.status is None


def test_config_refuses_a_short_secret_and_backwards_backoff() -> None:
    with pytest.raises(ValidationError, match="at least 16"):
        config("https://duty.example.cn/", secret=SecretStr("short"))
    with pytest.raises(ValidationError, match="backoff_base_s"):
        config("https://duty.example.cn/", backoff_base_s=5, backoff_max_s=1)
    with pytest.raises(ValidationError, match="url"):
        config("ftp://duty.example.cn/")


def test_registered_and_built_from_its_config() -> None:
    entry = CHANNELS["webhook"]
    assert entry.config is WebhookConfig
    built = entry.build("duty", config("https://duty.example.cn/"), ManualClock())
    assert isinstance(built, WebhookSender)
    assert built.name == "duty"
