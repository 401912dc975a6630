"""The ``storage`` section of hub.yaml: which backend, how to batch, where to spool."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from streetwatch.config import Section

BackendName = Literal["sqlite", "influxdb_v1", "influxdb_v2"]


class SqliteStoreConfig(Section):
    path: Path = Field(
        Path("store.sqlite3"),
        description="SQLite file for time series; relative to the hub's state_dir.",
    )
    retention_days: float = Field(
        90, gt=0, le=36500, description="Points older than this are deleted (hourly)."
    )


def _without_credentials(url: str, instead: str) -> str:
    """``url``, refused if it holds a user name or password: URLs are shown (logs, errors,
    check-config), secrets never are."""
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"must not hold a user name or password (it is shown in logs); {instead}")
    return url


class InfluxV1Config(Section):
    url: str = Field("http://127.0.0.1:8086", description="InfluxDB 1.x base URL.")
    database: str = Field("streetwatch", min_length=1, max_length=64, description="Database.")
    retention_policy: str = Field("", max_length=64, description="Empty: the default policy.")
    username: str | None = Field(None, max_length=128, description="User, if auth is on.")
    password: SecretStr | None = Field(
        None,
        description="From the environment only: STREETWATCH_HUB_STORAGE__INFLUXDB_V1__PASSWORD.",
    )
    create_database: bool = Field(True, description="CREATE DATABASE on start if missing.")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _without_credentials(
            value,
            "set storage.influxdb_v1.username and STREETWATCH_HUB_STORAGE__INFLUXDB_V1__PASSWORD",
        )


class InfluxV2Config(Section):
    url: str = Field(
        "http://127.0.0.1:8086",
        description="InfluxDB 2.x/3.x (or VictoriaMetrics) base URL for the v2 write API.",
    )
    org: str = Field("streetwatch", min_length=1, max_length=128, description="Organisation.")
    bucket: str = Field("streetwatch", min_length=1, max_length=128, description="Bucket.")
    token: SecretStr | None = Field(
        None,
        description="From the environment only: STREETWATCH_HUB_STORAGE__INFLUXDB_V2__TOKEN.",
    )
    query_api: Literal["influxql", "victoriametrics"] = Field(
        "influxql",
        description="How `hub query` reads back: InfluxQL on /query (InfluxDB 2.x with a DBRP "
        "mapping, 3.x) or VictoriaMetrics' export API.",
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _without_credentials(value, "set STREETWATCH_HUB_STORAGE__INFLUXDB_V2__TOKEN")


class StorageConfig(Section):
    backend: BackendName = Field(
        "sqlite", description="sqlite (embedded, the default), influxdb_v1 or influxdb_v2."
    )
    sqlite: SqliteStoreConfig = Field(default_factory=SqliteStoreConfig)
    influxdb_v1: InfluxV1Config = Field(default_factory=InfluxV1Config)
    influxdb_v2: InfluxV2Config = Field(default_factory=InfluxV2Config)
    timeout_s: float = Field(10, gt=0, le=300, description="A write slower than this fails.")
    batch_points: int = Field(
        5000, ge=1, le=100_000, description="Write when this many points are waiting."
    )
    flush_interval_s: float = Field(
        0.2, gt=0, le=60, description="Write at least this often when anything is waiting."
    )
    max_pending_points: int = Field(
        50_000,
        ge=1,
        le=10_000_000,
        description="Points held in memory before intake waits (backpressure to MQTT).",
    )
    spool_path: Path = Field(
        Path("spool.sqlite3"),
        description="Durable spool for points the database could not take; relative to state_dir.",
    )
    spool_quota_mb: float = Field(
        1024, gt=0, le=1_000_000, description="Spool size limit (MiB); when full, intake waits."
    )
    retry_min_s: float = Field(1, gt=0, le=600, description="First retry after a failed write.")
    retry_max_s: float = Field(30, gt=0, le=3600, description="Longest wait between retries.")

    @model_validator(mode="after")
    def _sizes(self) -> StorageConfig:
        if self.max_pending_points < self.batch_points:
            raise ValueError("max_pending_points must be at least batch_points")
        if self.retry_max_s < self.retry_min_s:
            raise ValueError("retry_max_s must be at least retry_min_s")
        return self
