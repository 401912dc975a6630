"""Config of an ``sms`` channel: a template for the HTTP API of an SMS gateway.

Placeholders ``{name}`` in ``url``, ``headers`` and the string values of ``body`` are filled
per page: {phone} {text} {ack_url} {title} {incident} {level} {token}. In ``url`` the values
are URL-encoded; ``{token}`` is the secret ``token``. Example (a JSON gateway)::

    method: POST
    url: https://sms.example.cn/api/send
    headers: {Authorization: "Bearer {token}"}
    body_format: json
    body: {to: "{phone}", content: "{text}", tag: "streetwatch"}
    success_field: result.code
    success_value: "0"
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal, Self

from pydantic import Field, JsonValue, SecretStr, model_validator

from streetwatch.config import Section

PLACEHOLDERS = frozenset({"phone", "text", "ack_url", "title", "incident", "level", "token"})
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def _strings(value: JsonValue) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


class SmsConfig(Section):
    method: Literal["POST", "PUT", "GET"] = Field("POST", description="HTTP method.")
    url: str = Field(
        pattern=r"^https?://\S+$", max_length=2048, description="Gateway URL; may hold {names}."
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Request headers; may hold {names}, e.g. {token}."
    )
    body_format: Literal["json", "form", "none"] = Field(
        "json", description="json, form (application/x-www-form-urlencoded) or none (GET)."
    )
    body: dict[str, JsonValue] = Field(
        default_factory=dict, description="Body template; its string values may hold {names}."
    )
    token: SecretStr | None = Field(
        None, description="API key for {token}. From the environment only (…__TOKEN)."
    )
    success_field: str | None = Field(
        None, description="Dotted path in the JSON answer that says whether it was sent."
    )
    success_value: str | None = Field(
        None, description="The value of success_field on success (compared as text)."
    )
    timeout_s: float = Field(5.0, gt=0, le=60, description="Connect, send and answer.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        texts = [self.url, *self.headers.values(), *_strings(self.body)]
        used = {m for t in texts for m in PLACEHOLDER.findall(t)}
        unknown = used - PLACEHOLDERS
        if unknown:
            raise ValueError(
                f"unknown placeholders {sorted(unknown)}; use {', '.join(sorted(PLACEHOLDERS))}"
            )
        if (self.success_field is None) != (self.success_value is None):
            raise ValueError("set success_field and success_value together, or neither")
        if "phone" not in used or not used & {"text", "ack_url"}:
            raise ValueError("the request must carry {phone} and {text} (or {ack_url})")
        if self.body_format == "none" and self.body:
            raise ValueError("body_format none goes with an empty body")
        if self.body_format == "form" and not all(isinstance(v, str) for v in self.body.values()):
            raise ValueError("a form body maps names to strings")
        if self.method == "GET" and self.body_format != "none":
            raise ValueError("a GET request has no body: put the values in url")
        return self
