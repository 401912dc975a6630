"""No secret appears in logs, in check-config's output, in the configs' repr, or in errors.

A hub and an edge agent run with known secrets, all from the environment as in production: the
MQTT passwords of the hub and the gateway (on the deployed broker with its password file and
ACL), the link secret, the operator's and the responders' API tokens, the InfluxDB password and
the webhook secret. They go through start, a birth, a smoke alarm that pages a responder,
database writes that fail (nothing listens where InfluxDB should be), refused, expired and good
tokens, a forged and a genuine one-tap link, and stop, with every log record captured at DEBUG
(the root logger: hub, edge, streetwatch and the libraries). Configs that fail validation, one
with the InfluxDB password in the URL, must not quote a secret either.
"""

from __future__ import annotations

import json
import logging
import secrets
from pathlib import Path

import aiomqtt
import click
import httpx
import pytest
import yaml
from click.testing import CliRunner
from integration.edge.test_uplink_outage import Devices, gateway_config
from integration.hub.conftest import HUAMU, hub_config_data
from pydantic import ValidationError
from support.http_receiver import HttpReceiver
from support.services import MosquittoService, free_port
from support.waiting import eventually

import edge.cli
import hub.cli
from edge.agent import EdgeAgent
from edge.config import GatewayConfig
from hub.config import HubConfig
from hub.service import Hub
from streetwatch.config import ConfigError, load_config

from .security_broker import HUB_USER, SecuredBroker, secured_broker
from .security_hub import GRID_WORKER, notify_section

ADMIN_TOKEN = "admin-" + secrets.token_hex(12)
RESPONDER_TOKENS = {
    GRID_WORKER: "wang-" + secrets.token_hex(12),
    "li": "li-" + secrets.token_hex(12),
}
LINK_SECRET = "link-" + secrets.token_hex(20)
INFLUX_PASSWORD = "influx-" + secrets.token_hex(12)
WEBHOOK_SECRET = "hook-" + secrets.token_hex(12)


def hub_environment(broker: SecuredBroker) -> dict[str, str]:
    return {
        "STREETWATCH_HUB_MQTT__PASSWORD": broker.passwords[HUB_USER],
        "STREETWATCH_HUB_API__ADMIN_TOKEN": ADMIN_TOKEN,
        "STREETWATCH_HUB_API__RESPONDER_TOKENS": json.dumps(RESPONDER_TOKENS),
        "STREETWATCH_HUB_API__LINK_SECRET": LINK_SECRET,
        "STREETWATCH_HUB_STORAGE__INFLUXDB_V1__PASSWORD": INFLUX_PASSWORD,
        "STREETWATCH_HUB_NOTIFY__CHANNELS__HOOK__SECRET": WEBHOOK_SECRET,
    }


def hub_file(tmp: Path, broker: SecuredBroker, webhook_url: str) -> Path:
    data = hub_config_data(tmp / "hub", broker.service, "")
    data["mqtt"]["username"] = HUB_USER
    data["storage"] = {
        "backend": "influxdb_v1",
        "influxdb_v1": {"url": f"http://127.0.0.1:{free_port()}", "username": "streetwatch"},
        "retry_min_s": 0.2,
        "retry_max_s": 0.5,
    }
    data["api"] = {"port": 0, "token_expires": {"li": "2020-01-01T08:00:00+08:00"}}
    data["notify"] = notify_section(webhook_url)
    path = tmp / "hub.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def edge_file(tmp: Path, broker: SecuredBroker, local: MosquittoService, prefix: str) -> Path:
    """The agent of the test's gateway: devices on ``local``, the uplink to ``broker``."""
    gateway = next(user for user in broker.passwords if user != HUB_USER)
    config = gateway_config(local, broker.service, prefix, tmp)
    data = config.model_dump(mode="json", exclude_none=True)
    for broker_section in ("local_broker", "uplink"):
        data[broker_section].pop("password", None)  # from the environment
    data["gateway"].update(id=gateway, area=HUAMU[0].model_dump())
    data["uplink"].update(topic_prefix="", username=gateway)  # the shipped ACL has no prefix
    path = tmp / "gateway.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def check_config(group: click.Group, path: Path) -> str:
    result = CliRunner().invoke(group, ["check-config", str(path)])
    assert result.exit_code == 0, result.output
    return result.output


def logged(caplog: pytest.LogCaptureFixture, test_client_url: str) -> str:
    """Every record, formatted with its traceback, but the test's own HTTP requests to the API
    (httpx logs each URL: a link's, when the test taps it)."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(
        formatter.format(record)
        for record in caplog.records
        if not (record.name == "httpx" and test_client_url in record.getMessage())
    )


def leaked(text: str, secret_values: list[str]) -> list[str]:
    return [secret for secret in secret_values if secret in text]


async def test_no_secret_reaches_the_logs(
    tmp_path: Path,
    mosquitto: MosquittoService,
    topic_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    gateway = f"{topic_prefix}-gw"
    with secured_broker(tmp_path / "broker", [gateway]) as broker:
        for name, value in hub_environment(broker).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("STREETWATCH_EDGE_UPLINK__PASSWORD", broker.passwords[gateway])
        secret_values = [
            *broker.passwords.values(),
            ADMIN_TOKEN,
            *RESPONDER_TOKENS.values(),
            LINK_SECRET,
            INFLUX_PASSWORD,
            WEBHOOK_SECRET,
        ]
        async with HttpReceiver() as receiver:
            hub_path = hub_file(tmp_path, broker, receiver.url("/page"))
            edge_path = edge_file(tmp_path, broker, mosquitto, topic_prefix)
            shown = [check_config(hub.cli.group, hub_path), check_config(edge.cli.group, edge_path)]
            hub_config = load_config(HubConfig, hub_path)
            edge_config = load_config(GatewayConfig, edge_path)
            for config in (hub_config, edge_config):
                shown += [repr(config), str(config), config.model_dump_json()]
            assert leaked("\n".join(shown), secret_values) == []

            link, api_url = await run_hub_and_edge(
                hub_config, edge_config, tmp_path, mosquitto, topic_prefix, receiver
            )
            secret_values.append(link.rsplit("/", 1)[1])

    records = logged(caplog, api_url)
    assert "InfluxDB http://127.0.0.1" in records  # the database outage was logged...
    assert leaked(records, secret_values) == []  # ...and nothing secret was


async def run_hub_and_edge(
    hub_config: HubConfig,
    edge_config: GatewayConfig,
    tmp: Path,
    local: MosquittoService,
    prefix: str,
    receiver: HttpReceiver,
) -> tuple[str, str]:
    """Start both, raise a smoke alarm, call the API and the page's link, stop.

    Returns the page's link and the URL the test called the API at."""
    async with (
        Hub(hub_config, base_dir=tmp) as running,
        aiomqtt.Client(local.host, local.port) as devices_client,
        EdgeAgent(edge_config, base_dir=tmp / "edge") as agent,
    ):
        gateway = edge_config.gateway.id
        await eventually(lambda: running.registry.get(gateway) is not None, what="the birth")
        await eventually(lambda: agent.local.connected, what="the agent's local subscription")
        await Devices(devices_client, prefix).smoke(True)
        await eventually(lambda: len(receiver.requests) > 0, what="a page")
        link: str = receiver.requests[0].json()["ack_url"]
        assert running.responding.api is not None
        api_url = f"http://127.0.0.1:{running.responding.api.port}"
        async with httpx.AsyncClient(base_url=api_url, trust_env=False, timeout=10) as http:
            answers = {
                "none": await http.get("/incidents"),
                "unknown": await http.get("/incidents", headers=bearer("x" * 24)),
                "expired": await http.get("/incidents", headers=bearer(RESPONDER_TOKENS["li"])),
                "good": await http.get("/incidents", headers=bearer(RESPONDER_TOKENS[GRID_WORKER])),
                "metrics": await http.get("/metrics", headers=bearer(ADMIN_TOKEN)),
                "forged": await http.post(link[link.index("/ack/") :] + "A"),
                "tapped": await http.post(link[link.index("/ack/") :]),
            }
        statuses = {name: answer.status_code for name, answer in answers.items()}
        assert statuses == {
            "none": 401,
            "unknown": 401,
            "expired": 401,
            "good": 200,
            "metrics": 200,
            "forged": 403,
            "tapped": 200,
        }
        await eventually(lambda: running.writer.stats().write_failures > 0, what="a failed write")
    return link, api_url


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_refused_configs_do_not_quote_secrets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mosquitto: MosquittoService
) -> None:
    """Secrets too short, and the InfluxDB password in the URL: refused without being quoted."""
    short_token, short_hook = "tok-" + secrets.token_hex(4), "hk-" + secrets.token_hex(4)
    monkeypatch.setenv("STREETWATCH_HUB_API__RESPONDER_TOKENS", json.dumps({"li": short_token}))
    monkeypatch.setenv("STREETWATCH_HUB_NOTIFY__CHANNELS__HOOK__SECRET", short_hook)
    data = hub_config_data(tmp_path / "hub", mosquitto, "")
    data["storage"] = {
        "backend": "influxdb_v1",
        "influxdb_v1": {"url": f"http://streetwatch:{INFLUX_PASSWORD}@127.0.0.1:8086"},
    }
    data["notify"] = notify_section("http://127.0.0.1:9/page")
    path = tmp_path / "hub.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    quoted = [short_token, short_hook, INFLUX_PASSWORD]

    with pytest.raises(ConfigError) as caught:
        load_config(HubConfig, path)
    said = str(caught.value)
    assert "storage.influxdb_v1.url" in said
    assert "STREETWATCH_HUB_STORAGE__INFLUXDB_V1__PASSWORD" in said
    assert leaked(said, quoted) == []
    output = CliRunner().invoke(hub.cli.group, ["check-config", str(path)]).output
    assert "not deployable" in output
    assert leaked(output, quoted) == []
    with pytest.raises(ValidationError) as direct:  # built in code, not loaded: pydantic's error
        HubConfig(**data)
    assert leaked(str(direct.value), quoted) == []
