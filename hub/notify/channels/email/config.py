"""Config of an ``email`` channel: an SMTP server (submission with STARTTLS by default)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator

from streetwatch.config import Section


class EmailConfig(Section):
    host: str = Field(min_length=1, max_length=253, description="SMTP server host name.")
    port: int = Field(587, ge=1, le=65535, description="587 (STARTTLS), 465 (TLS) or 25.")
    security: Literal["starttls", "tls", "none"] = Field(
        "starttls",
        description="starttls: upgrade the connection, fail if the server cannot; tls: TLS from "
        "the first byte (port 465); none: plain text, only on a trusted local relay.",
    )
    ca_file: Path | None = Field(
        None, description="CA certificate of a private mail server; the system store if unset."
    )
    username: str | None = Field(None, max_length=256, description="SMTP user, if auth is on.")
    password: SecretStr | None = Field(
        None, description="SMTP password. From the environment only (…__PASSWORD)."
    )
    sender: str = Field(
        pattern=r"^[^@\s<>]+@[^@\s<>]+$", description="From address, e.g. alarm@street.gov.cn."
    )
    sender_name: str = Field(
        "StreetWatch 街道预警", max_length=64, description="Display name of the sender."
    )
    timeout_s: float = Field(10.0, gt=0, le=120, description="Per SMTP step.")

    @model_validator(mode="after")
    def _auth(self) -> Self:
        if self.password is not None and self.username is None:
            raise ValueError("a password needs its username")
        if self.ca_file is not None and self.security == "none":
            raise ValueError("ca_file is for security starttls or tls")
        return self
