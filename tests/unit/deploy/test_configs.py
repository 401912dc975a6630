"""The hub and gateway configs of the stack pass `check-config` with the environment docker
compose gives their containers (from .env.example), and agree with the compose file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from edge.cli import group as edge_cli
from edge.config import GatewayConfig
from hub.cli import group as hub_cli
from hub.config import HubConfig
from streetwatch.config import load_config

from .stack import (
    GATEWAY_CONFIGS,
    HUB_CONFIG,
    environment,
    gateway_services,
    mounts,
    services,
)


@pytest.fixture(autouse=True)
def _no_outside_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the compose file's variables count, not whatever this shell has set."""
    for name in list(os.environ):
        if name.startswith(("STREETWATCH_HUB_", "STREETWATCH_EDGE_")):
            monkeypatch.delenv(name)


def _load_hub(monkeypatch: pytest.MonkeyPatch) -> HubConfig:
    for name, value in environment("hub").items():
        monkeypatch.setenv(name, value)
    return load_config(HubConfig, HUB_CONFIG)


def _load_gateway(monkeypatch: pytest.MonkeyPatch, service: str) -> GatewayConfig:
    for name, value in environment(service).items():
        monkeypatch.setenv(name, value)
    return load_config(GatewayConfig, GATEWAY_CONFIGS / f"{service}.yaml")


def test_hub_check_config_accepts_the_hub_of_the_stack() -> None:
    result = CliRunner().invoke(hub_cli, ["check-config", str(HUB_CONFIG)], env=environment("hub"))
    assert result.exit_code == 0, result.output
    assert "OK, a valid hub config" in result.output


def test_a_bad_secret_from_the_environment_is_refused_naming_its_variable() -> None:
    env = environment("hub")
    env["STREETWATCH_HUB_API__LINK_SECRET"] = "too-short"
    result = CliRunner().invoke(hub_cli, ["check-config", str(HUB_CONFIG)], env=env)
    assert result.exit_code == 1
    assert "STREETWATCH_HUB_API__LINK_SECRET" in result.output


@pytest.mark.parametrize("service", sorted(gateway_services()))
def test_edge_check_config_accepts_each_gateway_of_the_stack(service: str) -> None:
    path = GATEWAY_CONFIGS / f"{service}.yaml"
    result = CliRunner().invoke(edge_cli, ["check-config", str(path)], env=environment(service))
    assert result.exit_code == 0, result.output
    assert f"gateway {service} in" in result.output


def test_a_gateway_config_for_each_gateway_service_and_no_other() -> None:
    assert {p.stem for p in GATEWAY_CONFIGS.glob("*.yaml")} == set(gateway_services())


def test_the_hub_reaches_the_services_of_the_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    config = _load_hub(monkeypatch)
    influx = environment("influxdb")
    assert (config.mqtt.host, config.mqtt.port, config.mqtt.username) == ("mqtt", 1883, "hub")
    storage = config.storage
    assert storage.backend == "influxdb_v2"
    assert storage.influxdb_v2.url == "http://influxdb:8086"
    assert storage.influxdb_v2.org == influx["DOCKER_INFLUXDB_INIT_ORG"]
    assert storage.influxdb_v2.bucket == influx["DOCKER_INFLUXDB_INIT_BUCKET"]
    assert storage.influxdb_v2.query_api == "influxql"
    assert storage.influxdb_v2.token is not None
    assert str(config.hub.state_dir) in mounts("hub")
    assert (config.api.host, config.api.port) == ("0.0.0.0", 8080)
    assert services()["hub"]["ports"] == [f"{config.api.port}:{config.api.port}"]


def test_each_gateway_reaches_the_brokers_as_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    hub = _load_hub(monkeypatch)
    for service in gateway_services():
        config = _load_gateway(monkeypatch, service)
        assert config.gateway.id == service
        assert (config.uplink.host, config.uplink.port) == ("mqtt", 1883)
        assert config.uplink.username == service, "the ACL knows a gateway by its id"
        assert config.uplink.password is not None
        assert (config.local_broker.host, config.local_broker.port) == ("field", 1883)
        assert str(Path(config.buffer.path).parent) in mounts(service), "the outbox is not kept"
        area = config.gateway.area
        assert hub.city.has_street(area.district, area.street)
        street = next(s for d in hub.city.districts if d.id == area.district for s in d.streets)
        assert area.community in {c.id for c in street.communities}


def test_a_password_written_in_a_gateway_config_is_refused(tmp_path: Path) -> None:
    service = sorted(gateway_services())[0]
    text = (GATEWAY_CONFIGS / f"{service}.yaml").read_text(encoding="utf-8")
    assert "\nuplink:\n" in text
    bad = tmp_path / f"{service}.yaml"
    bad.write_text(text.replace("\nuplink:\n", "\nuplink:\n  password: in-the-file\n", 1))
    result = CliRunner().invoke(edge_cli, ["check-config", str(bad)], env=environment(service))
    assert result.exit_code == 1
    assert "set the environment variable STREETWATCH_EDGE_UPLINK__PASSWORD" in result.output
