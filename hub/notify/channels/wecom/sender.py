"""The ``wecom`` sender: a WeCom (企业微信) group robot posts the page to its group.

Format and answers: https://developer.work.weixin.qq.com/document/path/91770 (群机器人配置说明)::

    POST <base_url>?key=<key>
    {"msgtype": "markdown", "markdown": {"content": "<markdown, at most 4096 bytes>"}}
    {"msgtype": "text", "text": {"content": "<at most 2048 bytes>",
                                 "mentioned_mobile_list": ["13800001111", "@all"]}}
    → {"errcode": 0, "errmsg": "ok"}

Markdown is the default; with mobiles to @ the page goes as text, the only type in which WeCom
resolves ``mentioned_mobile_list``. ``errcode`` -1 (busy) and 45009 (over the robot's limit of
20 messages a minute) are retryable; any other non-zero code is a refusal (bad key, bad body).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel

from hub.notify.base import Delivery, Notification, Sender, channel
from hub.notify.channels._http import HttpSender, plain_number
from hub.notify.channels.wecom.config import WecomConfig
from streetwatch.clock import Clock

BUSY = frozenset({-1, 45009})


def _body(notification: Notification, config: WecomConfig) -> dict[str, Any]:
    """The robot's JSON body for one page."""
    mobiles = [plain_number(m) for m in config.mention_mobiles]
    phone = plain_number(notification.recipient.phone or "")
    if config.mention_recipient and phone and phone not in mobiles:
        mobiles.append(phone)
    message = notification.message
    if not mobiles:
        return {"msgtype": "markdown", "markdown": {"content": message.markdown}}
    return {
        "msgtype": "text",
        "text": {"content": message.text, "mentioned_mobile_list": mobiles},
    }


class WecomSender(HttpSender):
    def __init__(
        self,
        name: str,
        config: WecomConfig,
        *,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(name, timeout_s=config.timeout_s, clock=clock, transport=transport)
        self.config = config

    async def send(self, notification: Notification) -> Delivery:
        url = f"{self.config.base_url}?{urlencode({'key': self.config.key.get_secret_value()})}"
        body = _body(notification, self.config)
        return await self.post_to_robot(url, body, code="errcode", message="errmsg", busy=BUSY)


@channel("wecom", WecomConfig)
def build(name: str, config: BaseModel, clock: Clock) -> Sender:
    if not isinstance(config, WecomConfig):
        raise TypeError(f"wecom channel {name!r} needs a WecomConfig")
    return WecomSender(name, config, clock=clock)
