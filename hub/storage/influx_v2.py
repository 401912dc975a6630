"""The InfluxDB v2 write API (InfluxDB 2.x and 3.x, VictoriaMetrics), through influxdb-client.

Points go out as line protocol (``hub.storage.lineprotocol``) with ``WriteApiAsync.write``. What
the client raises, and what it means here (errors as in ``hub.storage.influx_v1``):

* ``aiohttp.ClientError`` (refused, reset, DNS) and ``TimeoutError`` → StorageUnavailable;
* ``influxdb_client.rest.ApiException`` → by its ``status``: 5xx, 429, 401, 403, 404 →
  StorageUnavailable, other 4xx (e.g. 422 field type conflict) → StorageRejected.

Reading back depends on ``query_api``: ``influxql`` asks ``/query`` (db = the bucket, with
``Authorization: Token``), ``victoriametrics`` asks VictoriaMetrics' export API. When writing to
VictoriaMetrics, string fields are dropped: it would store each as a series of zeros.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self, cast

import aiohttp
import httpx
import orjson
from influxdb_client.client.influxdb_client_async import InfluxDBClientAsync
from influxdb_client.client.write_api_async import WriteApiAsync
from influxdb_client.domain.write_precision import WritePrecision
from influxdb_client.rest import ApiException

from hub.storage import influxql, victoria
from hub.storage.base import Point, QueryFilter, Row, StorageUnavailable
from hub.storage.config import InfluxV2Config
from hub.storage.influx_v1 import check_response, encode_or_reject, http_errors, status_error

__all__ = ["InfluxV2Store"]


def _api_message(exc: Any) -> str:
    message = getattr(exc, "message", None) or getattr(exc, "body", None) or exc
    return message.decode(errors="replace") if isinstance(message, bytes) else str(message)


class InfluxV2Store:
    """See :class:`hub.storage.base.Backend` and the module docstring."""

    name = "influxdb_v2"

    def __init__(self, config: InfluxV2Config, timeout_s: float) -> None:
        self.config = config
        self.timeout_s = timeout_s
        self.where = f"{config.url} bucket {config.bucket!r}"
        self._client: InfluxDBClientAsync | None = None
        self._write_api: WriteApiAsync | None = None
        self._http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Self:
        c = self.config
        token = c.token.get_secret_value() if c.token else ""
        # Built here, not in __init__: the async client must be created inside the event loop.
        self._client = InfluxDBClientAsync(
            url=c.url, token=token, org=c.org, timeout=int(self.timeout_s * 1000)
        )
        self._write_api = self._client.write_api()
        headers = {"Authorization": f"Token {token}"} if token else {}
        self._http = httpx.AsyncClient(
            base_url=c.url, headers=headers, timeout=self.timeout_s, trust_env=False
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        client, self._client, self._write_api = self._client, None, None
        http, self._http = self._http, None
        if http is not None:
            await http.aclose()
        if client is not None:
            await cast(Any, client).close()  # untyped in influxdb-client

    def _open(self) -> tuple[WriteApiAsync, httpx.AsyncClient]:
        if self._write_api is None or self._http is None:
            raise StorageUnavailable(f"{self.where}: the store is not open")
        return self._write_api, self._http

    @property
    def _victoria(self) -> bool:
        return self.config.query_api == "victoriametrics"

    async def write(self, points: Sequence[Point]) -> None:
        write_api, _ = self._open()
        if self._victoria:
            points = victoria.numeric_points(points)
        if not points:
            return
        body = encode_or_reject(points, self.where)
        try:
            await write_api.write(
                self.config.bucket,
                self.config.org,
                record=body,
                write_precision=cast(WritePrecision, WritePrecision.MS),  # a str constant
            )
        except ApiException as exc:
            raise status_error(exc.status or 500, _api_message(exc), self.where) from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise StorageUnavailable(f"{self.where}: unreachable: {exc!r}") from exc

    async def query(self, q: QueryFilter) -> list[Row]:
        _, http = self._open()
        if self._victoria:
            return await victoria.export(http, q, self.where)
        params = {"db": self.config.bucket, "q": influxql.select(q), "epoch": "ms"}
        with http_errors(self.where):
            response = await http.get("/query", params=params)
        check_response(response, self.where)
        return influxql.parse_rows(orjson.loads(response.content), q.limit)

    async def ping(self) -> bool:
        """``/ping`` (InfluxDB 2.x/3.x, VictoriaMetrics), else ``/health``."""
        if self._http is None:
            return False
        for path in ("/ping", "/health"):
            try:
                response = await self._http.get(path)
            except httpx.HTTPError:
                return False
            if response.is_success:
                return True
        return False
