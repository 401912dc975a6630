"""Build the configured backend: ``async with open_backend(config, state_dir) as store: ...``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

from hub.storage.base import Backend
from hub.storage.config import BackendName, StorageConfig
from hub.storage.influx_v1 import InfluxV1Store
from hub.storage.influx_v2 import InfluxV2Store
from hub.storage.sqlite_store import SqliteStore

__all__ = ["BACKENDS", "open_backend"]

BACKENDS: Mapping[BackendName, Callable[[StorageConfig, Path], Backend]] = MappingProxyType(
    {
        "sqlite": lambda c, state_dir: SqliteStore(c.sqlite, state_dir),
        "influxdb_v1": lambda c, _: InfluxV1Store(c.influxdb_v1, c.timeout_s),
        "influxdb_v2": lambda c, _: InfluxV2Store(c.influxdb_v2, c.timeout_s),
    }
)
"""Backend name (``storage.backend``) → how to build it from the storage section."""


def open_backend(config: StorageConfig, state_dir: Path) -> Backend:
    """The backend ``config`` names, not yet opened: entering it does the I/O.

    ``state_dir`` is where relative paths (the SQLite file) live.
    """
    return BACKENDS[config.backend](config, state_dir)
