"""The ``dingtalk`` sender: a DingTalk (钉钉) custom robot posts the page to its group, signed.

Security settings (加签): https://open.dingtalk.com/document/orgapp/customize-robot-security-settings
Message types: https://open.dingtalk.com/document/orgapp/custom-robot-access ::

    POST <base_url>?access_token=<token>&timestamp=<ms>&sign=<sign>
    sign = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")))
    {"msgtype": "markdown", "markdown": {"title": "...", "text": "..."},
     "at": {"atMobiles": ["138..."], "isAtAll": false}}
    → {"errcode": 0, "errmsg": "ok"}

The timestamp is in milliseconds and must be within an hour of DingTalk's clock. A mobile in
``atMobiles`` is only notified when ``@<mobile>`` also appears in the text, so it is appended.
``errcode`` -1 (busy), 130101 and 410100 (over 20 messages a minute) are retryable; 310000
(signature, keyword or IP check failed), 300001 (unknown token) and the rest are refusals.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel

from hub.notify.base import Delivery, Notification, Sender, channel
from hub.notify.channels._http import HttpSender, plain_number
from hub.notify.channels.dingtalk.config import DingtalkConfig
from streetwatch.clock import Clock, now_ms

BUSY = frozenset({-1, 130101, 410100})


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>")), before URL encoding."""
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def _body(notification: Notification, config: DingtalkConfig) -> dict[str, Any]:
    mobiles = [plain_number(m) for m in config.at_mobiles]
    phone = plain_number(notification.recipient.phone or "")
    if config.at_recipient and phone and phone not in mobiles:
        mobiles.append(phone)
    text = notification.message.markdown
    if mobiles:
        text += "\n\n" + " ".join(f"@{m}" for m in mobiles)
    return {
        "msgtype": "markdown",
        "markdown": {"title": notification.message.title, "text": text},
        "at": {"atMobiles": mobiles, "isAtAll": config.at_all},
    }


class DingtalkSender(HttpSender):
    def __init__(
        self,
        name: str,
        config: DingtalkConfig,
        *,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(name, timeout_s=config.timeout_s, clock=clock, transport=transport)
        self.config = config

    def url(self) -> str:
        query = {"access_token": self.config.access_token.get_secret_value()}
        if self.config.secret is not None:
            timestamp = now_ms(self.clock)
            query["timestamp"] = str(timestamp)
            query["sign"] = dingtalk_sign(self.config.secret.get_secret_value(), timestamp)
        return f"{self.config.base_url}?{urlencode(query)}"  # quote_plus: the urlEncode step

    async def send(self, notification: Notification) -> Delivery:
        body = _body(notification, self.config)
        return await self.post_to_robot(
            self.url(), body, code="errcode", message="errmsg", busy=BUSY
        )


@channel("dingtalk", DingtalkConfig)
def build(name: str, config: BaseModel, clock: Clock) -> Sender:
    if not isinstance(config, DingtalkConfig):
        raise TypeError(f"dingtalk channel {name!r} needs a DingtalkConfig")
    return DingtalkSender(name, config, clock=clock)
