"""Config of an ``mqtt`` channel: the broker and the topic a responder app listens on."""

from __future__ import annotations

import re
from typing import Self

from pydantic import Field, model_validator

from streetwatch.broker import BrokerConfig
from streetwatch.config import Section

FIELDS = frozenset({"prefix", "recipient", "role", "district", "street"})
PLACEHOLDER = re.compile(r"\{(\w*)\}")


class MqttConfig(Section):
    broker: BrokerConfig = Field(
        default_factory=BrokerConfig, description="The broker the responder apps connect to."
    )
    prefix: str = Field(
        "",
        max_length=128,
        description="Deployment namespace put before sw/v1 (as in every StreetWatch topic).",
    )
    topic: str = Field(
        "{prefix}/sw/v1/responders/{recipient}",
        min_length=1,
        max_length=256,
        description="Topic template; {recipient} is the person's address on this channel (its "
        "entry in their `extra`, else their id); also {role} {district} {street}. An empty "
        "{prefix} drops its segment.",
    )
    retain: bool = Field(False, description="Keep the last page on the broker for late joiners.")
    timeout_s: float = Field(10.0, gt=0, le=60, description="Connect, and wait for PUBACK.")

    @model_validator(mode="after")
    def _template(self) -> Self:
        unknown = set(PLACEHOLDER.findall(self.topic)) - FIELDS
        if unknown:
            raise ValueError(f"topic: unknown {sorted(unknown)}; use {', '.join(sorted(FIELDS))}")
        if "{recipient}" not in self.topic:
            raise ValueError("topic must contain {recipient}: each person has their own topic")
        if any(c in PLACEHOLDER.sub("", self.topic) for c in "+#"):
            raise ValueError("topic must not contain the wildcards + or #")
        return self
