"""The ``sms`` sender: one page, one SMS, through a gateway's HTTP API (``SmsConfig``).

The SMS text is ``Message.sms``: the short form (at most 70 characters in Chinese) and the
acknowledgement link. Sent means a 2xx answer and, when ``success_field`` is set, that field of
the JSON answer equal to ``success_value``; any other value is a retryable failure (the gateway
did not say why in a way we know). A person without a phone number cannot be reached here:
not retryable, so the escalation moves on to their next channel.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, JsonValue

from hub.notify.base import Delivery, Notification, Sender, channel
from hub.notify.channels._http import HttpSender, plain_number
from hub.notify.channels.sms.config import PLACEHOLDER, SmsConfig
from streetwatch.clock import Clock


def fill(template: str, values: Mapping[str, str], escape: Callable[[str], str] = str) -> str:
    return PLACEHOLDER.sub(lambda m: escape(values[m.group(1)]), template)


def fill_json(template: JsonValue, values: Mapping[str, str]) -> JsonValue:
    if isinstance(template, str):
        return fill(template, values)
    if isinstance(template, list):
        return [fill_json(item, values) for item in template]
    if isinstance(template, dict):
        return {key: fill_json(item, values) for key, item in template.items()}
    return template


def _lookup(answer: Any, path: str) -> tuple[bool, Any]:
    for part in path.split("."):
        if not isinstance(answer, dict) or part not in answer:
            return False, None
        answer = answer[part]
    return True, answer


class SmsSender(HttpSender):
    def __init__(
        self,
        name: str,
        config: SmsConfig,
        *,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(name, timeout_s=config.timeout_s, clock=clock, transport=transport)
        self.config = config

    def values(self, notification: Notification, phone: str) -> dict[str, str]:
        message, config = notification.message, self.config
        return {
            "phone": phone,
            "text": message.sms or f"{message.title} {message.ack_url}",
            "ack_url": message.ack_url,
            "title": message.title,
            "incident": notification.incident.id,
            "level": notification.incident.level.value,
            "token": config.token.get_secret_value() if config.token is not None else "",
        }

    async def send(self, notification: Notification) -> Delivery:
        phone = notification.recipient.phone
        if not phone:
            return self.failed(f"{notification.recipient.id} has no phone number", False)
        config, values = self.config, self.values(notification, plain_number(phone))
        url = fill(config.url, values, lambda v: quote(v, safe=""))
        headers = {k: fill(v, values) for k, v in config.headers.items()}
        content, data = None, None
        if config.body_format == "json":
            content = json.dumps(fill_json(config.body, values), ensure_ascii=False).encode()
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        elif config.body_format == "form":
            data = {k: fill(str(v), values) for k, v in config.body.items()}
        answer = await self.request(config.method, url, content=content, data=data, headers=headers)
        if isinstance(answer, Delivery):
            return answer
        return self._judge(answer)

    def _judge(self, response: httpx.Response) -> Delivery:
        field, expected = self.config.success_field, self.config.success_value
        if field is None:
            return Delivery(ok=True, channel=self.name, status=response.status_code)
        try:
            found, value = _lookup(response.json(), field)
        except ValueError:
            found, value = False, None
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if found and shown == expected:
            return Delivery(ok=True, channel=self.name, status=response.status_code)
        got = f"{field} = {shown}" if found else f"no {field}"
        detail = f"{got}, expected {expected}: {response.text[:200]}"
        return self.failed(detail, True, response.status_code)


@channel("sms", SmsConfig)
def build(name: str, config: BaseModel, clock: Clock) -> Sender:
    if not isinstance(config, SmsConfig):
        raise TypeError(f"sms channel {name!r} needs an SmsConfig")
    return SmsSender(name, config, clock=clock)
