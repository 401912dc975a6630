"""Hub integration fixtures: a hub config on the test broker, the example city, a fleet."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.fleet import Fleet, VirtualGateway
from support.services import MosquittoService

from hub.config import HubConfig
from hub.service import Hub
from streetwatch.clock import Clock
from streetwatch.location import Area

ROOT = Path(__file__).resolve().parents[3]
CITY: dict[str, Any] = yaml.safe_load((ROOT / "examples" / "hub.yaml").read_text())["city"]

HUAMU = [Area(district="pudong", street="huamu", community=c) for c in ("lianyang", "dongming")]
YANGJING = Area(district="pudong", street="yangjing", community="juquan")


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and key in out else value
    return out


def make_hub_config(
    state_dir: Path, broker: MosquittoService, prefix: str, extra: dict[str, Any] | None = None
) -> HubConfig:
    return HubConfig(**hub_config_data(state_dir, broker, prefix, extra))


def hub_config_data(
    state_dir: Path, broker: MosquittoService, prefix: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """hub.yaml for a test, as data (``yaml.safe_dump`` it for a hub process)."""
    data: dict[str, Any] = {
        "hub": {"id": "test", "state_dir": str(state_dir)},
        "mqtt": {"host": broker.host, "port": broker.port, "topic_prefix": prefix},
        "ingest": {"confirm_interval_s": 0.1, "reorder_timeout_s": 1},
        "storage": {"flush_interval_s": 0.05},
        "api": {"port": 0},  # any free port: hubs of parallel tests never collide
        "city": CITY,
    }
    return _merge(data, extra or {})


@pytest.fixture
def hub_config(
    tmp_path: Path, mosquitto: MosquittoService, topic_prefix: str
) -> Callable[..., HubConfig]:
    def build(extra: dict[str, Any] | None = None, state: str = "hub") -> HubConfig:
        return make_hub_config(tmp_path / state, mosquitto, topic_prefix, extra)

    return build


@asynccontextmanager
async def running_hub(
    config: HubConfig, base_dir: Path, clock: Clock | None = None
) -> AsyncIterator[Hub]:
    async with Hub(config, base_dir=base_dir, clock=clock) as hub:
        await hub.link.connected.wait()
        yield hub


def fleet_of(
    n: int, name: str, areas: list[Area] | None = None, sensors: int = 3
) -> list[VirtualGateway]:
    """``n`` gateways named ``{name}-00``...; ``name`` unique per test (shared databases)."""
    areas = areas or HUAMU
    return [
        VirtualGateway(f"{name}-{i:02d}", areas[i % len(areas)], sensors=sensors) for i in range(n)
    ]


@asynccontextmanager
async def fleet(
    broker: MosquittoService, prefix: str, gateways: list[VirtualGateway]
) -> AsyncIterator[Fleet]:
    async with Fleet(broker.host, broker.port, prefix, gateways) as f:
        yield f
