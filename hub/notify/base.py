"""What every channel is given and what it answers; the registry of channels.

Errors a channel meets are results, not exceptions: ``Delivery(ok=False, retryable=...)``. The
escalator decides what to do next (retry later, fall back to the person's next channel).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from pydantic import BaseModel

from hub.incidents.model import Incident
from streetwatch.clock import Clock

Language = Literal["zh", "en"]


@dataclass(frozen=True, slots=True)
class Recipient:
    """A person as a channel needs them: their addresses (each channel uses its own)."""

    id: str
    name: str
    role: str  # grid_worker, community, street, district
    phone: str | None = None
    email: str | None = None
    language: Language = "zh"
    extra: dict[str, str] = field(default_factory=dict)  # e.g. a per-person MQTT topic or IM id


@dataclass(frozen=True, slots=True)
class Message:
    """A rendered notification: what the person reads, in their language."""

    title: str
    text: str  # plain text, a few lines
    markdown: str  # for channels that render Markdown (WeCom, DingTalk, Feishu)
    ack_url: str
    map_url: str | None = None
    sms: str = ""  # the short form (≤ 70 characters) then the ack link; empty: derive from title


@dataclass(frozen=True, slots=True)
class Notification:
    incident: Incident
    recipient: Recipient
    message: Message
    attempt: int = 1  # 1 for the first page of this person for this incident
    tier: int = 0  # 0 = first tier (社区), 1 = next (街道), ...


@dataclass(frozen=True, slots=True)
class Delivery:
    ok: bool
    channel: str
    detail: str = ""
    retryable: bool = True  # False: this channel will never reach this person (fall back)
    status: int | None = None  # HTTP status or SMTP code when there was one


class Sender(Protocol):
    """A configured channel. An async context manager (it may hold a connection pool)."""

    name: str

    async def __aenter__(self) -> Sender: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def send(self, notification: Notification) -> Delivery: ...


@dataclass(frozen=True, slots=True)
class ChannelType:
    """A registry entry: the config model of a channel type and how to build its sender."""

    name: str
    config: type[BaseModel]
    build: Callable[[str, BaseModel, Clock], Sender]  # (instance name, config, clock) -> sender


CHANNELS: dict[str, ChannelType] = {}


Build = Callable[[str, BaseModel, Clock], Sender]


def channel(name: str, config: type[BaseModel]) -> Callable[[Build], Build]:
    """Register a channel type: ``@channel("webhook", WebhookConfig)`` on its build function."""

    def register(build: Build) -> Build:
        if name in CHANNELS:
            raise ValueError(f"channel type {name!r} registered twice")
        CHANNELS[name] = ChannelType(name, config, build)
        return build

    return register
