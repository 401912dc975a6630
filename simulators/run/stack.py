"""The StreetWatch a scenario runs against: the hub and one edge agent per gateway, configured
for the generated city, sharing one clock.

Each gateway reaches the hub broker through its own ``UplinkRelay`` (so one uplink can be cut),
and all devices publish on one local broker under per-gateway base topics. The hub pages the
``SimulatedResponders``: a grid worker per community, a street office per street, a district
officer per district, each paged on the run's webhook. A ``Watcher`` (the demo's ``--notify``)
adds real channels and someone per community paged on them, to see the pages on a phone.

On a broker that others use too (``namespace``), every topic of the run starts with the
namespace: the hub's and the gateways' ``topic_prefix``, and the devices' base topics.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.agent import EdgeAgent
from edge.config import GatewayConfig
from hub.config import HubConfig
from simulators.city import Brokers, SimCity, SimGateway, gateway_config, hub_city
from simulators.run.brokers import free_port
from streetwatch.clock import Clock
from streetwatch.kinds import Ecosystem
from streetwatch.topics import DEFAULT_BASES

SHARED_SESSION_EXPIRY_S = 600  # on somebody else's broker, the hub's session goes soon after


class PowerLost(Exception):
    """Raised into an edge agent's context to stop it without a goodbye, as a power cut does."""


@dataclass(frozen=True, slots=True)
class Watcher:
    """Someone outside the simulation who is paged, on real channels, whenever a community's
    first tier is (the demo's ``--notify``). ``channels`` are hub ``notify.channels`` entries,
    tried in this order like a responder's contact list; the addresses are for channels that
    need one (e-mail, SMS, a per-person IM id)."""

    channels: Mapping[str, Mapping[str, Any]]
    name: str = "StreetWatch 演示观众"
    email: str | None = None
    phone: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    def person(self, district: str, street: str, community: str) -> dict[str, Any]:
        """The watcher as a responder of ``community``'s first tier (社区)."""
        area = {"district": district, "street": street, "community": community}
        addresses = {"email": self.email, "phone": self.phone, "extra": dict(self.extra)}
        return {
            "id": f"watcher-{community}",
            "name": self.name,
            "role": "community",
            **area,
            "contact": list(self.channels),
            **{k: v for k, v in addresses.items() if v},
        }


def roster(city: SimCity, watcher: Watcher | None = None) -> list[dict[str, Any]]:
    """Somebody for every tier of every place of the city, all paged on the run's webhook (and
    the ``watcher`` beside each grid worker)."""

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
                if watcher is not None:
                    people.append(watcher.person(d.id, s.id, c.id))
    return people


def hub_config(
    city: SimCity,
    work: Path,
    broker: tuple[str, int],
    webhook: str,
    secret: str,
    storage: dict[str, Any] | None = None,
    *,
    mqtt5: bool = True,
    namespace: str = "",
    watcher: Watcher | None = None,
) -> HubConfig:
    """The hub's config; ``storage`` replaces the embedded SQLite store (e.g. InfluxDB)."""
    api_port = free_port()
    host, port = broker
    mqtt: dict[str, Any] = {"host": host, "port": port, "username": "hub"}
    if namespace:
        mqtt |= {"topic_prefix": namespace, "session_expiry_s": SHARED_SESSION_EXPIRY_S}
    if not mqtt5:  # amqtt: MQTT 3.1.1 only
        mqtt["protocol"] = "3.1.1"
    channels: dict[str, Any] = {"webhook": {"type": "webhook", "url": webhook, "secret": secret}}
    if watcher is not None:
        channels |= {name: dict(spec) for name, spec in watcher.channels.items()}
    return HubConfig(
        hub={"id": namespace or "sim", "state_dir": str(work / "hub")},
        mqtt=mqtt,
        ingest={"confirm_interval_s": 1, "reorder_timeout_s": 10},
        storage=storage or {"backend": "sqlite", "flush_interval_s": 1},
        api={"port": api_port, "base_url": f"http://127.0.0.1:{api_port}",
             "link_secret": secrets.token_urlsafe(32)},
        notify={"channels": channels, "responders": roster(city, watcher)},
        city=hub_city(city),
    )  # fmt: skip


def edge_config(
    gateway: SimGateway,
    local: tuple[str, int],
    uplink: tuple[str, int],
    sockets: Path,
    namespace: str = "",
) -> GatewayConfig:
    """The gateway's config, its control socket in ``sockets`` (a Unix socket path must stay
    under ~100 bytes, which a run directory deep in a tree may not)."""
    brokers = Brokers(*local, *uplink, topic_prefix=namespace)
    data = gateway_config(gateway, brokers)
    data["health"] = {"control_socket": str(sockets / f"{gateway.id}.sock")}
    if namespace:
        for sensor in data["sensors"]:
            sensor["source"] = namespaced(sensor["source"], namespace)
    return GatewayConfig(**data)


def namespaced(source: dict[str, Any], namespace: str) -> dict[str, Any]:
    """A sensor's ``source`` whose topics start with ``namespace/`` (as ``device_topic`` does)."""
    ecosystem = Ecosystem(source["ecosystem"])
    if ecosystem is Ecosystem.JSON:  # the device is its exact topic
        return source | {"device": f"{namespace}/{source['device']}"}
    base = source.get("base_topic") or DEFAULT_BASES[ecosystem]
    return source | {"base_topic": f"{namespace}/{base}"}


def device_topic(topic: str, namespace: str) -> str:
    """Where a device of the run publishes ``topic``: under the namespace, if any."""
    return f"{namespace}/{topic}" if namespace else topic


def edge_agent(config: GatewayConfig, work: Path, clock: Clock, seed: str) -> EdgeAgent:
    """An agent whose boot id comes from ``seed`` (gateway and boot count), not the OS."""
    base = work / "edge"
    (base / config.buffer.path).parent.mkdir(parents=True, exist_ok=True)
    return EdgeAgent(config, base_dir=base, clock=clock, rng=random.Random(seed))
