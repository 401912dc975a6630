"""Config of a ``webhook`` channel: where to POST, the signing secret, how hard to try."""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, model_validator

from streetwatch.config import Section


class WebhookConfig(Section):
    url: str = Field(
        pattern=r"^https?://\S+$", max_length=2048, description="Receiver URL (http or https)."
    )
    secret: SecretStr = Field(
        min_length=16,
        description="HMAC-SHA256 key of X-StreetWatch-Signature, shared with the receiver. "
        "From the environment only (…__SECRET), never from the file.",
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Extra request headers (not secrets: they are in the file).",
    )
    timeout_s: float = Field(5.0, gt=0, le=60, description="Per try: connect, send and answer.")
    attempts: int = Field(
        3,
        ge=1,
        le=10,
        description="Tries within one send, on 5xx, 408, 429, timeouts and connection errors.",
    )
    backoff_base_s: float = Field(0.5, gt=0, le=30, description="First wait between tries.")
    backoff_max_s: float = Field(4.0, gt=0, le=120, description="Longest wait between tries.")

    @model_validator(mode="after")
    def _backoff_order(self) -> Self:
        if self.backoff_base_s > self.backoff_max_s:
            raise ValueError("backoff_base_s must not exceed backoff_max_s")
        return self
