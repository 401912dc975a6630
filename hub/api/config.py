"""The ``api`` section of hub.yaml: where the responder API listens and who may call it.

Secrets come from the environment only (a secret written in hub.yaml is an error that names the
variable to use). With the hub's ``STREETWATCH_HUB_`` prefix and the section mounted as
``api``::

    STREETWATCH_HUB_API__ADMIN_TOKEN='…'                    # operators: all incidents, /metrics
    STREETWATCH_HUB_API__RESPONDER_TOKENS='{"zhang-wei": "…", "li-na": "…"}'
    STREETWATCH_HUB_API__LINK_SECRET='…'                    # signs one-tap ack links

``RESPONDER_TOKENS`` is one JSON object, responder id → bearer token, so that the whole roster
of tokens is a single secret. Tokens are at least 16 characters and unique; generate them with
``python -c 'import secrets; print(secrets.token_urlsafe(24))'``. A responder id must be on the
roster (its district and street scope what the token sees).

When a token stops working is not a secret: ``token_expires`` in hub.yaml maps ``admin`` (the
operator token) or a responder id to a date and time with its UTC offset. A token not listed
does not expire.
"""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import Field, SecretStr, field_validator, model_validator

from streetwatch.config import Section
from streetwatch.ids import InvalidSlugError, Slug, check_slug

__all__ = ["ADMIN_TOKEN_KEY", "MIN_LINK_SECRET_CHARS", "MIN_TOKEN_CHARS", "ApiConfig"]

ADMIN_TOKEN_KEY = "admin"
"""The key of the operator token in ``token_expires`` (the others are responder ids)."""
MIN_TOKEN_CHARS = 16
MIN_LINK_SECRET_CHARS = 32


def _parse_responder_tokens(text: str) -> dict[str, str]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"not JSON (column {exc.colno}: {exc.msg}); write an object like "
            '{"responder-id": "token"}'
        ) from None
    if not isinstance(data, dict):
        raise ValueError('must be a JSON object like {"responder-id": "token"}')
    for responder, token in data.items():
        try:
            check_slug(responder, "responder id")
        except InvalidSlugError as exc:
            raise ValueError(str(exc)) from None
        if responder == ADMIN_TOKEN_KEY:
            raise ValueError(
                f"{ADMIN_TOKEN_KEY!r} is the operator (STREETWATCH_HUB_API__ADMIN_TOKEN); give "
                "the responder another id"
            )
        if not isinstance(token, str) or len(token) < MIN_TOKEN_CHARS:
            raise ValueError(
                f"the token of {responder!r} must be text of at least {MIN_TOKEN_CHARS} characters"
            )
    shared = len(set(data.values())) != len(data)
    if shared:
        raise ValueError("two responders share a token; give each responder their own")
    return data


class ApiConfig(Section):
    """See the module docstring."""

    host: str = Field(
        "127.0.0.1",
        min_length=1,
        description="Address to listen on. Keep 127.0.0.1 behind a reverse proxy that adds "
        "TLS; 0.0.0.0 listens on every interface.",
    )
    port: int = Field(8080, ge=0, le=65535, description="TCP port (0: any free port).")
    base_url: str = Field(
        "http://127.0.0.1:8080",
        description="The public address phones reach the API at (https://… in production); "
        "one-tap acknowledgement links start with it.",
    )
    link_ttl_s: float = Field(
        86400, ge=60, le=30 * 86400, description="How long a one-tap acknowledgement link works."
    )
    graceful_stop_s: int = Field(
        5, ge=0, le=300, description="On shutdown, how long requests in flight may finish."
    )
    admin_token: SecretStr | None = Field(
        None,
        description="Bearer token of operators (all incidents, /metrics). Environment only: "
        "STREETWATCH_HUB_API__ADMIN_TOKEN. Unset: nobody is an operator.",
    )
    responder_tokens: SecretStr | None = Field(
        None,
        description="JSON object responder id → bearer token. Environment only: "
        "STREETWATCH_HUB_API__RESPONDER_TOKENS. Unset: no responder can call the API.",
    )
    link_secret: SecretStr | None = Field(
        None,
        description=f"HMAC key of one-tap links, at least {MIN_LINK_SECRET_CHARS} characters. "
        "Environment only: STREETWATCH_HUB_API__LINK_SECRET. Changing it voids links sent.",
    )
    token_expires: dict[Slug, datetime] = Field(
        default_factory=dict,
        max_length=100_000,
        description=f"When tokens stop working: {ADMIN_TOKEN_KEY!r} (the operator token) or a "
        "responder id → date and time with its UTC offset, e.g. 2026-12-31T18:00:00+08:00. "
        "An expired token is refused (401) saying when it expired. Unlisted: no expiry.",
    )

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or any(c in value for c in "?# "):
            raise ValueError(
                "must be an http:// or https:// address without query or fragment, "
                "e.g. https://hub.example.gov.cn"
            )
        return value.rstrip("/")

    @field_validator("admin_token")
    @classmethod
    def _admin_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_TOKEN_CHARS:
            raise ValueError(f"must be at least {MIN_TOKEN_CHARS} characters")
        return value

    @field_validator("responder_tokens")
    @classmethod
    def _responder_tokens(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _parse_responder_tokens(value.get_secret_value())
        return value

    @field_validator("link_secret")
    @classmethod
    def _link_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_LINK_SECRET_CHARS:
            raise ValueError(f"must be at least {MIN_LINK_SECRET_CHARS} characters")
        return value

    @field_validator("token_expires")
    @classmethod
    def _aware(cls, value: dict[str, datetime]) -> dict[str, datetime]:
        for who, when in value.items():
            if when.tzinfo is None:
                raise ValueError(
                    f"the expiry of {who!r} has no UTC offset; write it like "
                    "2026-12-31T18:00:00+08:00"
                )
        return value

    @model_validator(mode="after")
    def _expiring_tokens_exist(self) -> ApiConfig:
        if self.responder_tokens is None:
            return self  # the tokens are not in this environment (say, a check-config run)
        known = {ADMIN_TOKEN_KEY, *self.responders()}
        unknown = sorted(set(self.token_expires) - known)
        if unknown:
            raise ValueError(
                f"token_expires: no token in STREETWATCH_HUB_API__RESPONDER_TOKENS for "
                f"{', '.join(map(repr, unknown))}; correct the id (the operator token is "
                f"{ADMIN_TOKEN_KEY!r})"
            )
        return self

    @model_validator(mode="after")
    def _admin_not_a_responder(self) -> ApiConfig:
        if self.admin_token is not None:
            admin = self.admin_token.get_secret_value()
            if admin in self.responders().values():
                raise ValueError("the admin token is also a responder's token; make it unique")
        return self

    def responders(self) -> dict[str, str]:
        """Responder id → bearer token (empty when none are set)."""
        if self.responder_tokens is None:
            return {}
        return _parse_responder_tokens(self.responder_tokens.get_secret_value())
