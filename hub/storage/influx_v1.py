"""InfluxDB 1.x through its HTTP API: ``/write`` (line protocol, ms), ``/query`` (InfluxQL).

Errors, by what the hub should do with the data:

* connection refused, timeouts, 5xx, 429, and what an operator can fix: 401/403
  (credentials), 404 (no such database) and "partial write: max-series-per-database (or
  max-values-per-tag) limit exceeded": :class:`StorageUnavailable`, the points wait in the spool
  (rewriting the part that was stored is harmless: writes are idempotent);
* any other 4xx, including "partial write" (a field type conflict, points beyond the retention
  policy): :class:`StorageRejected` with InfluxDB's own message, as sending again cannot help.

The HTTP client ignores proxy environment variables (``trust_env=False``): the database is
reached directly at the configured URL.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Self

import httpx
import orjson

from hub.storage import influxql
from hub.storage.base import (
    Point,
    QueryFilter,
    Row,
    StorageError,
    StorageRejected,
    StorageUnavailable,
)
from hub.storage.config import InfluxV1Config
from hub.storage.lineprotocol import encode_lines

__all__ = ["InfluxV1Store", "check_response", "encode_or_reject", "http_errors", "status_error"]

log = logging.getLogger(__name__)

_LIMITS = (
    "raise max-series-per-database or max-values-per-tag in the [data] section of influxdb.conf"
    " (0: no limit; see docs/storage.md)"
)
_OPERATOR_FIXABLE = {
    401: "check the credentials",
    403: "check the user's rights",
    404: "check the URL, and that the database or bucket exists",
}


def encode_or_reject(points: Sequence[Point], where: str) -> bytes:
    try:
        return encode_lines(points)
    except ValueError as exc:
        raise StorageRejected(f"{where}: {exc}") from exc


def _message(response: httpx.Response) -> str:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.text.strip() or response.reason_phrase
    if isinstance(body, Mapping):
        return str(body.get("error") or body.get("message") or body)
    return str(body)


def status_error(status: int, message: str, where: str) -> StorageError:
    """The storage error an HTTP error status means (see the module docstring)."""
    text = f"{where}: HTTP {status}: {message}"
    if status >= 500 or status == 429:
        return StorageUnavailable(text)
    if "limit exceeded" in message:  # a new series over a cardinality limit: keep it for later
        return StorageUnavailable(f"{text}; {_LIMITS}")
    if status in _OPERATOR_FIXABLE:
        return StorageUnavailable(f"{text}; {_OPERATOR_FIXABLE[status]}")
    return StorageRejected(text)


def check_response(response: httpx.Response, where: str) -> None:
    if response.status_code >= 300:
        raise status_error(response.status_code, _message(response), where)


@contextmanager
def http_errors(where: str) -> Iterator[None]:
    """Transport failures (refused, reset, timed out) → :class:`StorageUnavailable`."""
    try:
        yield
    except httpx.TransportError as exc:
        kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "unreachable"
        raise StorageUnavailable(f"{where}: {kind}: {exc!r}") from exc


class InfluxV1Store:
    """See :class:`hub.storage.base.Backend` and the module docstring."""

    name = "influxdb_v1"

    def __init__(self, config: InfluxV1Config, timeout_s: float) -> None:
        self.config = config
        self.timeout_s = timeout_s
        self.where = f"InfluxDB {config.url} database {config.database!r}"
        self._client: httpx.AsyncClient | None = None
        self._database_ready = not config.create_database

    async def __aenter__(self) -> Self:
        c = self.config
        auth = None
        if c.username:
            auth = httpx.BasicAuth(c.username, c.password.get_secret_value() if c.password else "")
        self._client = httpx.AsyncClient(
            base_url=c.url, auth=auth, timeout=self.timeout_s, trust_env=False
        )
        try:
            await self._ensure_database()
        except StorageUnavailable as exc:  # the spool covers an outage; retried before writes
            log.warning("%s; will create the database when it answers", exc)
        except BaseException:
            await self._client.aclose()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            raise StorageUnavailable(f"{self.where}: the store is not open")
        return self._client

    async def _ensure_database(self) -> None:
        if self._database_ready:
            return
        body = await self._query(f"CREATE DATABASE {influxql.ident(self.config.database)}")
        influxql.parse_rows(body, 1)  # raises if the statement failed
        self._database_ready = True

    async def _query(self, q: str) -> dict[str, Any]:
        with http_errors(self.where):
            response = await self._http().post(
                "/query", data={"db": self.config.database, "q": q, "epoch": "ms"}
            )
        check_response(response, self.where)
        body: dict[str, Any] = orjson.loads(response.content)
        return body

    async def write(self, points: Sequence[Point]) -> None:
        if not points:
            return
        body = encode_or_reject(points, self.where)
        await self._ensure_database()
        response = await self._post_write(body)
        if response.status_code == 404 and self.config.create_database:
            self._database_ready = False  # dropped since it was created: again, and retry once
            await self._ensure_database()
            response = await self._post_write(body)
        check_response(response, self.where)

    async def _post_write(self, body: bytes) -> httpx.Response:
        params = {"db": self.config.database, "precision": "ms"}
        if self.config.retention_policy:
            params["rp"] = self.config.retention_policy
        with http_errors(self.where):
            return await self._http().post(
                "/write",
                params=params,
                content=body,
                headers={"Content-Type": "text/plain; charset=utf-8"},
            )

    async def query(self, q: QueryFilter) -> list[Row]:
        text = influxql.select(q, retention_policy=self.config.retention_policy)
        return influxql.parse_rows(await self._query(text), q.limit)

    async def ping(self) -> bool:
        try:
            response = await self._http().get("/ping")
        except (httpx.HTTPError, StorageUnavailable):
            return False
        return response.status_code == 204
