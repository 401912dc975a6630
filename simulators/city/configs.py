"""The configs a deployment of a generated city needs, as plain data and as files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from simulators.city.model import NamedPlace, SimCity, SimGateway, SimSensor
from streetwatch.location import Coordinates


@dataclass(frozen=True, slots=True)
class Brokers:
    """The brokers written into gateway configs (one local broker may serve every gateway)."""

    local_host: str = "127.0.0.1"
    local_port: int = 1883
    uplink_host: str = "127.0.0.1"
    uplink_port: int = 1883
    topic_prefix: str = ""


def _point(c: Coordinates) -> dict[str, float]:
    return {"lat": c.lat, "lon": c.lon}


def _sensor_config(s: SimSensor) -> dict[str, Any]:
    source: dict[str, Any] = {"ecosystem": s.source.ecosystem.value, "device": s.source.device}
    if s.source.base_topic:
        source["base_topic"] = s.source.base_topic
    placement: dict[str, Any] = {"building": s.building, "floor": s.floor}
    placement["risk_point"] = s.risk_point.value if s.risk_point else None
    placement = {k: v for k, v in placement.items() if v is not None}
    placement["coordinates"] = _point(s.coordinates)
    return {"id": s.id, "kind": s.kind.value, "source": source, "placement": placement}


def gateway_config(gateway: SimGateway, brokers: Brokers = Brokers()) -> dict[str, Any]:
    """The gateway.yaml of ``gateway`` as plain data (see examples/gateway.yaml)."""
    uplink: dict[str, Any] = {"host": brokers.uplink_host, "port": brokers.uplink_port}
    uplink["username"] = gateway.id
    if brokers.topic_prefix:
        uplink["topic_prefix"] = brokers.topic_prefix
    return {
        "version": 1,
        "gateway": {"id": gateway.id, "area": gateway.area.model_dump()},
        "local_broker": {"host": brokers.local_host, "port": brokers.local_port},
        "uplink": uplink,
        "buffer": {"path": f"state/{gateway.id}.sqlite3"},
        "sensors": [_sensor_config(s) for s in gateway.sensors],
    }


def hub_city(city: SimCity) -> dict[str, Any]:
    """The ``city`` section of hub.yaml as plain data (see examples/hub.yaml)."""

    def named(x: NamedPlace) -> dict[str, Any]:
        return {"id": x.id, "zh": x.zh, "en": x.en, "coordinates": _point(x.coordinates)}

    districts = []
    for d in city.districts:
        streets = [named(s) | {"communities": [named(c) for c in s.communities]} for s in d.streets]
        districts.append(named(d) | {"streets": streets})
    return {"districts": districts}


def write_configs(city: SimCity, directory: str | Path, brokers: Brokers = Brokers()) -> list[Path]:
    """Write ``<gateway id>.yaml`` for every gateway and ``city.yaml``; return the paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    docs = {f"{g.id}.yaml": gateway_config(g, brokers) for g in city.gateways()}
    docs["city.yaml"] = hub_city(city)
    paths = []
    for name, data in docs.items():
        path = out / name
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
        paths.append(path)
    return paths
