"""What the HTTP channels share: one client per sender, and how an answer becomes a ``Delivery``.

    answer                       meaning                              retryable
    2xx                          taken (then the platform's own code decides)
    408, 429, 5xx                busy or broken for now               yes
    other 4xx                    refused: bad key, bad request        no (fall back)
    timeout, refused, reset      nobody answered                      yes
    platform code != 0           refused by the platform              only for its "busy" codes

The client ignores proxy variables in the environment (``trust_env=False``): an alarm goes
straight to the configured URL or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any, Self

import httpx

from hub.notify.base import Delivery
from streetwatch.clock import Clock, SystemClock


def plain_number(phone: str) -> str:
    """``+86 138-0000-1111`` → ``+8613800001111``: the digits platforms and gateways expect."""
    return phone.replace(" ", "").replace("-", "")


class HttpSender:
    """Base of the HTTP senders: holds an ``httpx.AsyncClient`` between enter and exit."""

    def __init__(
        self,
        name: str,
        *,
        timeout_s: float,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = name
        self.timeout_s = timeout_s
        self.clock: Clock = clock or SystemClock()
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Self:
        self._client = httpx.AsyncClient(
            timeout=self.timeout_s, transport=self._transport, trust_env=False
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def request(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response | Delivery:
        """The 2xx response, or the failed ``Delivery`` that any other outcome is."""
        if self._client is None:
            raise RuntimeError(f"{self.name}: use the sender inside `async with`")
        try:
            response = await self._client.request(
                method, url, content=content, data=data, headers=headers
            )
        except httpx.TimeoutException:
            return self.failed(f"no answer within {self.timeout_s:g} s", retryable=True)
        except httpx.HTTPError as exc:
            return self.failed(f"{type(exc).__name__}: {exc}", retryable=True)
        status = response.status_code
        if 200 <= status < 300:
            return response
        retryable = status in (408, 429) or status >= 500
        return self.failed(f"HTTP {status}: {response.text[:200]}", retryable, status)

    def platform_answer(
        self,
        response: httpx.Response,
        *,
        code: str,
        message: str,
        busy: Collection[int] = (),
    ) -> Delivery:
        """Judge a ``{"<code>": 0, "<message>": "ok"}`` style answer (WeCom, DingTalk, Feishu)."""
        try:
            answer: Any = response.json()
        except ValueError:
            return self.failed(f"answer is not JSON: {response.text[:200]}", True, 200)
        if not isinstance(answer, dict) or code not in answer:
            return self.failed(f"answer has no {code!r}: {response.text[:200]}", True, 200)
        if answer[code] == 0:
            return Delivery(ok=True, channel=self.name, status=response.status_code)
        detail = f"{code} {answer[code]}: {answer.get(message, '')}"
        return self.failed(detail, answer[code] in busy, response.status_code)

    async def post_to_robot(
        self, url: str, body: Any, *, code: str, message: str, busy: Collection[int] = ()
    ) -> Delivery:
        """POST ``body`` as UTF-8 JSON to an IM robot and judge its ``{code, message}`` answer."""
        content = json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        answer = await self.request("POST", url, content=content, headers=headers)
        if isinstance(answer, Delivery):
            return answer
        return self.platform_answer(answer, code=code, message=message, busy=busy)

    def failed(self, detail: str, retryable: bool, status: int | None = None) -> Delivery:
        return Delivery(
            ok=False, channel=self.name, detail=detail, retryable=retryable, status=status
        )
