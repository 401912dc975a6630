"""The ``webhook`` sender: the page as signed JSON (``PagePayload``), retried while it may help.

The request::

    POST <url>
    Content-Type: application/json
    X-StreetWatch-Timestamp: 1719813780                  Unix seconds when this try was signed
    X-StreetWatch-Delivery: inc-42:p-7:1                 incident:recipient:attempt, per send
    X-StreetWatch-Signature: sha256=<hex HMAC-SHA256(secret, b"1719813780." + body)>

    {"v":1,"incident":{...},"recipient":{...},"message":{...},"ack_url":"...",...}

A receiver checks, in this order: the timestamp is within 5 minutes of its clock; the signature
over ``"<timestamp>." + raw body`` matches (constant-time compare); the delivery id was not
seen in the last 10 minutes (each try of one send is signed anew with its own timestamp but
carries the same delivery id, so a retried page is recognised as one page). A replayed request
is too old, or its timestamp cannot be changed without breaking the signature.

Within one ``send``: up to ``attempts`` tries, with jittered exponential backoff between them
(``streetwatch.backoff``), on 5xx, 408, 429, timeouts and connection errors; any other 4xx is
final and not retryable. The wait goes through the injected clock, so tests do not sleep.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import random
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from hub.notify.base import Delivery, Notification, Sender, channel
from hub.notify.channels._http import HttpSender
from hub.notify.channels._payload import PagePayload
from hub.notify.channels.webhook.config import WebhookConfig
from streetwatch.backoff import Backoff
from streetwatch.clock import Clock, now_ms

USER_AGENT = "StreetWatch-Notify/1"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 keyed by ``secret`` over ``b"<timestamp>." + body``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


class WebhookSender(HttpSender):
    def __init__(
        self,
        name: str,
        config: WebhookConfig,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(name, timeout_s=config.timeout_s, clock=clock, transport=transport)
        self.config = config
        self._rng = rng

    async def send(self, notification: Notification) -> Delivery:
        body = PagePayload.of(notification, now_ms(self.clock)).body()
        ids = (notification.incident.id, notification.recipient.id, str(notification.attempt))
        delivery_id = ":".join(quote(part, safe="") for part in ids)
        backoff = Backoff(self.config.backoff_base_s, self.config.backoff_max_s, self._rng)
        for tried in range(1, self.config.attempts + 1):
            delivery = await self._try(body, delivery_id)
            if delivery.ok or not delivery.retryable or tried == self.config.attempts:
                break
            await self.clock.sleep(backoff.next_delay())
        if tried > 1:
            delivery = dataclasses.replace(delivery, detail=f"{delivery.detail} (try {tried})")
        return delivery

    async def _try(self, body: bytes, delivery_id: str) -> Delivery:
        timestamp = int(self.clock.now())
        headers = {
            **self.config.headers,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-StreetWatch-Timestamp": str(timestamp),
            "X-StreetWatch-Delivery": delivery_id,
            "X-StreetWatch-Signature": signature(
                self.config.secret.get_secret_value(), timestamp, body
            ),
        }
        answer = await self.request("POST", self.config.url, content=body, headers=headers)
        if isinstance(answer, Delivery):
            return answer
        return Delivery(ok=True, channel=self.name, status=answer.status_code)


@channel("webhook", WebhookConfig)
def build(name: str, config: BaseModel, clock: Clock) -> Sender:
    if not isinstance(config, WebhookConfig):
        raise TypeError(f"webhook channel {name!r} needs a WebhookConfig")
    return WebhookSender(name, config, clock=clock)
