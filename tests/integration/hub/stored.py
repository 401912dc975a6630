"""Reading back what the hub stored, straight from each real backend (not through the hub)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.services import InfluxDBService, VictoriaMetricsService

from hub.config import HubConfig
from hub.storage.base import QueryFilter
from hub.storage.open import open_backend


@dataclass(frozen=True)
class StoredReading:
    sensor: str
    t: int
    depth: float
    tags: tuple[tuple[str, str], ...]


def influx_db_name(prefix: str) -> str:
    return "sw_" + prefix.replace("-", "_")


def backend_extra(
    backend: str, prefix: str, influxdb: InfluxDBService | None, vm: VictoriaMetricsService | None
) -> dict[str, Any]:
    if backend == "influxdb_v1":
        assert influxdb is not None
        return {
            "backend": backend,
            "influxdb_v1": {"url": influxdb.url, "database": influx_db_name(prefix)},
        }
    if backend == "influxdb_v2":
        assert vm is not None
        return {"backend": backend, "influxdb_v2": {"url": vm.url, "query_api": "victoriametrics"}}
    return {"backend": "sqlite"}


async def stored_readings(
    config: HubConfig,
    base_dir: Path,
    name: str,
    influxdb: InfluxDBService | None = None,
    vm: VictoriaMetricsService | None = None,
) -> list[StoredReading]:
    """Every ``water_level`` depth point of gateways named ``name-*``, duplicates included."""
    backend = config.storage.backend
    out: list[StoredReading] = []
    if backend == "influxdb_v1":
        assert influxdb is not None
        columns = ", ".join(("depth", *_TAGS))
        rows = influxdb.query(
            config.storage.influxdb_v1.database,
            f"SELECT {columns} FROM water_level WHERE gateway =~ /^{name}-/",
        )
        for r in rows:
            tags = tuple(sorted((k, str(r[k])) for k in _TAGS if r.get(k) is not None))
            t, depth = r["time"], r["depth"]
            assert isinstance(t, int)
            assert isinstance(depth, int | float)
            out.append(StoredReading(str(r["sensor"]), t, float(depth), tags))
        return out
    if backend == "influxdb_v2":
        assert vm is not None
        vm.flush()
        for series in vm.export(f'{{__name__="water_level_depth",gateway=~"{name}-.*"}}'):
            labels = series["metric"]
            tags = tuple(sorted((k, str(v)) for k, v in labels.items() if k in _TAGS))
            for t, v in zip(series["timestamps"], series["values"], strict=True):
                out.append(StoredReading(labels["sensor"], int(t), float(v), tags))
        return out
    state_dir = config.state_path(base_dir, Path("."))
    async with open_backend(config.storage, state_dir) as store:
        stored = await store.query(
            QueryFilter(since_ms=0, measurement="water_level", limit=1_000_000)
        )
    for row in stored:
        if not row.tags.get("gateway", "").startswith(f"{name}-"):
            continue
        tags = tuple(sorted((k, v) for k, v in row.tags.items() if k in _TAGS))
        out.append(StoredReading(row.tags["sensor"], row.time_ms, float(row.fields["depth"]), tags))
    return out


_TAGS = (
    "district",
    "street",
    "community",
    "gateway",
    "sensor",
    "building",
    "risk_point",
    "quality",
)
