"""The ``feishu`` sender: a Feishu / Lark (飞书) custom bot posts the page to its group, signed.

Format, signature and answers: https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot
Card JSON 1.0 and its Markdown component:
https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-components/content-components/rich-text

::

    POST <base_url>/<hook>
    {"timestamp": "<unix seconds>", "sign": "<sign>",
     "msg_type": "text", "content": {"text": "..."}}
    {"timestamp": ..., "sign": ..., "msg_type": "interactive", "card": {"header": ..., ...}}
    sign = base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b""))
    → {"code": 0, "msg": "success", "data": {}}

Unlike DingTalk the string ``timestamp + "\\n" + secret`` is the HMAC *key* and the message is
empty; the timestamp is in seconds and must be within an hour of Feishu's clock. ``code`` 11232
(over the bot's rate limit) is retryable; 19021 (signature), 19022 (IP), 19024 (keyword),
9499 (bad request) and the rest are refusals.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import httpx
from pydantic import BaseModel

from hub.notify.base import Delivery, Notification, Sender, channel
from hub.notify.channels._http import HttpSender
from hub.notify.channels.feishu.config import FeishuConfig
from streetwatch.clock import Clock
from streetwatch.levels import Level

BUSY = frozenset({11232})
TEMPLATE = {
    Level.RED: "red",
    Level.ORANGE: "orange",
    Level.YELLOW: "yellow",
    Level.BLUE: "blue",
    Level.NONE: "grey",
}
ACK_BUTTON = {"zh": "点击确认收到", "en": "Acknowledge"}


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """base64(HMAC-SHA256 keyed by "<timestamp>\\n<secret>" over an empty message)."""
    mac = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def _card(notification: Notification) -> dict[str, Any]:
    message = notification.message
    heading, _, rest = message.markdown.partition("\n\n")  # the header shows the title
    content = rest if heading.startswith("#") else message.markdown
    button = {
        "tag": "button",
        "text": {"tag": "plain_text", "content": ACK_BUTTON[notification.recipient.language]},
        "type": "danger",
        "url": message.ack_url,
    }
    return {
        "config": {"wide_screen_mode": True},
        "header": {
            "template": TEMPLATE[notification.incident.level],
            "title": {"tag": "plain_text", "content": message.title},
        },
        "elements": [
            {"tag": "markdown", "content": content},
            {"tag": "action", "actions": [button]},
        ],
    }


class FeishuSender(HttpSender):
    def __init__(
        self,
        name: str,
        config: FeishuConfig,
        *,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(name, timeout_s=config.timeout_s, clock=clock, transport=transport)
        self.config = config

    def body(self, notification: Notification) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.config.secret is not None:
            timestamp = int(self.clock.now())
            body["timestamp"] = str(timestamp)
            body["sign"] = feishu_sign(self.config.secret.get_secret_value(), timestamp)
        if self.config.msg_type == "text":
            body |= {"msg_type": "text", "content": {"text": notification.message.text}}
        else:
            body |= {"msg_type": "interactive", "card": _card(notification)}
        return body

    async def send(self, notification: Notification) -> Delivery:
        url = f"{self.config.base_url}/{self.config.hook.get_secret_value()}"
        body = self.body(notification)
        return await self.post_to_robot(url, body, code="code", message="msg", busy=BUSY)


@channel("feishu", FeishuConfig)
def build(name: str, config: BaseModel, clock: Clock) -> Sender:
    if not isinstance(config, FeishuConfig):
        raise TypeError(f"feishu channel {name!r} needs a FeishuConfig")
    return FeishuSender(name, config, clock=clock)
