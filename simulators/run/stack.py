"""The StreetWatch a scenario runs against: the hub and one edge agent per gateway, configured
for the generated city, sharing one clock.

Each gateway reaches the hub broker through its own ``UplinkRelay`` (so one uplink can be cut),
and all devices publish on one local broker under per-gateway base topics. The hub pages the
``SimulatedResponders``: a grid worker per community, a street office per street, a district
officer per district, each paged on the run's webhook.
"""

from __future__ import annotations

import random
import secrets
from pathlib import Path
from typing import Any

from edge.agent import EdgeAgent
from edge.config import GatewayConfig
from hub.config import HubConfig
from simulators.city import Brokers, SimCity, SimGateway, gateway_config, hub_city
from simulators.run.brokers import free_port
from streetwatch.clock import Clock


class PowerLost(Exception):
    """Raised into an edge agent's context to stop it without a goodbye, as a power cut does."""


def roster(city: SimCity) -> list[dict[str, Any]]:
    """Somebody for every tier of every place of the city, all paged on the run's webhook."""

    def person(who: str, name: str, role: str, **area: str) -> dict[str, Any]:
        return {"id": who, "name": name, "role": role, **area, "contact": ["webhook"]}

    people = []
    for d in city.districts:
        people.append(person(f"district-{d.id}", f"{d.zh}值班员", "district", district=d.id))
        for s in d.streets:
            at = {"district": d.id, "street": s.id}
            people.append(person(f"street-{s.id}", f"{s.zh}值班员", "street", **at))
            for c in s.communities:
                grid = person(f"grid-{c.id}", f"{c.zh}网格员", "grid_worker", **at, community=c.id)
                people.append(grid)
    return people


def hub_config(
    city: SimCity,
    work: Path,
    broker_port: int,
    webhook: str,
    secret: str,
    storage: dict[str, Any] | None = None,
) -> HubConfig:
    """The hub's config; ``storage`` replaces the embedded SQLite store (e.g. InfluxDB)."""
    api_port = free_port()
    return HubConfig(
        hub={"id": "sim", "state_dir": str(work / "hub")},
        mqtt={"host": "127.0.0.1", "port": broker_port, "username": "hub"},
        ingest={"confirm_interval_s": 1, "reorder_timeout_s": 10},
        storage=storage or {"backend": "sqlite", "flush_interval_s": 1},
        api={"port": api_port, "base_url": f"http://127.0.0.1:{api_port}",
             "link_secret": secrets.token_urlsafe(32)},
        notify={"channels": {"webhook": {"type": "webhook", "url": webhook, "secret": secret}},
                "responders": roster(city)},
        city=hub_city(city),
    )  # fmt: skip


def edge_config(
    gateway: SimGateway, local_port: int, uplink_port: int, sockets: Path
) -> GatewayConfig:
    """The gateway's config, its control socket in ``sockets`` (a Unix socket path must stay
    under ~100 bytes, which a run directory deep in a tree may not)."""
    data = gateway_config(gateway, Brokers(local_port=local_port, uplink_port=uplink_port))
    data["health"] = {"control_socket": str(sockets / f"{gateway.id}.sock")}
    return GatewayConfig(**data)


def edge_agent(config: GatewayConfig, work: Path, clock: Clock, seed: str) -> EdgeAgent:
    """An agent whose boot id comes from ``seed`` (gateway and boot count), not the OS."""
    base = work / "edge"
    (base / config.buffer.path).parent.mkdir(parents=True, exist_ok=True)
    return EdgeAgent(config, base_dir=base, clock=clock, rng=random.Random(seed))
