"""The storage interface every backend implements, and the values that cross it.

A ``Point`` is one line of InfluxDB line protocol in structured form. Backends write points and
read them back for ``streetwatch hub query``; they never see wire messages (``hub.storage.schema``
turns those into points).

Errors::

    StorageError                 anything a backend cannot do
    ├── StorageUnavailable       down, unreachable, timing out, 5xx: retry later (spool)
    └── StorageRejected          the backend refused the data itself (4xx): retrying is useless
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, Self

FieldValue = float | int | bool | str


class StorageError(Exception):
    """A backend could not do what was asked."""


class StorageUnavailable(StorageError):
    """The backend is down, unreachable or too slow: the data must wait (in the spool)."""


class StorageRejected(StorageError):
    """The backend refused the data (bad request): sending it again would not help."""


class Point(NamedTuple):
    """One point: ``measurement,tags fields time`` (time in Unix milliseconds).

    ``tags`` are (key, value) pairs sorted by key; values are non-empty strings. ``fields`` has at
    least one entry. A point with the same measurement, tags and time as another replaces it in
    every backend (writes are idempotent). A named tuple, not a frozen dataclass: the hub makes
    one per stored reading, and a tuple is built about three times faster.
    """

    measurement: str
    tags: tuple[tuple[str, str], ...]
    fields: Mapping[str, FieldValue]
    time_ms: int


@dataclass(frozen=True, slots=True)
class QueryFilter:
    """What ``streetwatch hub query`` asks for; ``None`` means any."""

    since_ms: int
    until_ms: int | None = None
    measurement: str | None = None  # e.g. "water_level", "water_level_window", "gateway_health"
    kind: str | None = None  # sensor kind: selects its raw and window measurements
    sensor: str | None = None
    gateway: str | None = None
    district: str | None = None
    street: str | None = None
    community: str | None = None
    limit: int = 1000


@dataclass(frozen=True, slots=True)
class Row:
    measurement: str
    time_ms: int
    tags: Mapping[str, str] = field(default_factory=dict)
    fields: Mapping[str, FieldValue] = field(default_factory=dict)


class Backend(Protocol):
    """A time-series store. An async context manager: opening does the I/O, not the constructor."""

    name: str

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def write(self, points: Sequence[Point]) -> None:
        """Store all of ``points`` or raise; on success they are durable in the backend."""
        ...

    async def query(self, q: QueryFilter) -> list[Row]:
        """Points matching ``q``, oldest first, at most ``q.limit`` (the newest ones)."""
        ...

    async def ping(self) -> bool:
        """Whether the backend answers now (for health and for draining the spool)."""
        ...
