"""The stack's hub broker as deploy/mosquitto/entrypoint.sh makes it, with real clients.

The entrypoint runs here as in the `mqtt` container, with the environment docker-compose.yml
gives it from .env.example: it writes the password file (write-passwords.sh, `mosquitto_passwd
-b`), copies the ACL and writes the container's copy of streetwatch-hub.conf. Mosquitto then
runs with those files; the test changes only the listener (a free port on 127.0.0.1 instead of
every interface's 1883) and the user to run as. The gateways are the deployed ones, logging in
with their passwords from .env.example. (tests/integration/hub/test_shipped_broker.py checks the
shipped conf's queue sizes with the hub.)
"""

from __future__ import annotations

import asyncio
import os
import pwd
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiomqtt
import pytest
from support.services import MosquittoService
from support.waiting import eventually
from unit.deploy.stack import (
    DEPLOY,
    GATEWAY_CONFIGS,
    env_example,
    environment,
    gateway_services,
    mqtt_password_variable,
    services,
)

from edge.config import GatewayConfig
from streetwatch.config import load_config
from streetwatch.topics import Channel, Scope, TopicTree

ENTRYPOINT = DEPLOY / "mosquitto" / "entrypoint.sh"
TREE = TopicTree()


class DeployedBroker(MosquittoService):
    """Mosquitto with the files the stack's entrypoint writes from ``env``."""

    def __init__(self, data_dir: Path, env: dict[str, str]) -> None:
        self.env = env
        super().__init__(data_dir)

    def _write_config(self) -> None:
        home = self.data_dir / "mosquitto"
        subprocess.run(
            ["sh", str(ENTRYPOINT), "true"],
            env={"PATH": os.environ["PATH"] + ":/usr/bin:/usr/sbin", **self.env,
                 "MOSQUITTO_DIR": str(home)},
            check=True,
            capture_output=True,
        )  # fmt: skip
        conf = (home / "config" / "streetwatch.conf").read_text(encoding="utf-8")
        assert "\nlistener 1883\n" in conf, "the container listens on every interface"
        conf = conf.replace("\nlistener 1883\n", f"\nlistener {self.port} {self.host}\n")
        user = pwd.getpwuid(os.geteuid()).pw_name
        self.conf_path.write_text(conf + f"user {user}\n", encoding="utf-8")


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeployedBroker]:
    service = DeployedBroker(tmp_path_factory.mktemp("hub-broker"), environment("mqtt"))
    service.start()
    yield service
    service.stop()


def _password(user: str) -> str:
    return env_example()[mqtt_password_variable(user)]


@asynccontextmanager
async def _client(
    broker: DeployedBroker, user: str | None, password: str | None = None
) -> AsyncIterator[aiomqtt.Client]:
    if user is not None and password is None:
        password = _password(user)
    async with aiomqtt.Client(broker.host, broker.port, username=user, password=password) as c:
        yield c


def _gateways() -> list[GatewayConfig]:
    return [load_config(GatewayConfig, GATEWAY_CONFIGS / f"{g}.yaml") for g in gateway_services()]


def _topic(gateway: GatewayConfig, channel: Channel, command: str | None = None) -> str:
    area = gateway.gateway.area
    return TREE.gateway(area.district, area.street, gateway.gateway.id, channel, command)


async def _collect(client: aiomqtt.Client, into: list[str]) -> None:
    async for message in client.messages:
        into.append(str(message.topic))


async def test_a_gateway_publishes_only_under_its_own_topics(broker: DeployedBroker) -> None:
    first, second = _gateways()
    seen: list[str] = []
    async with _client(broker, "hub") as hub, _client(broker, first.gateway.id) as gateway:
        for channel in (Channel.STATE, Channel.DATA, Channel.EVENT, Channel.HEALTH):
            await hub.subscribe(TREE.filter(Scope(), channel), qos=1)
        listener = asyncio.create_task(_collect(hub, seen))
        impersonated = [_topic(second, c) for c in (Channel.STATE, Channel.DATA, Channel.EVENT)]
        for topic in impersonated:
            await gateway.publish(topic, b"{}", qos=1)  # accepted, then dropped by the ACL
        own = _topic(first, Channel.DATA)
        await gateway.publish(own, b"{}", qos=1)
        await eventually(lambda: own in seen, what="the gateway's own data at the hub")
        listener.cancel()
    assert not set(impersonated) & set(seen)


async def test_a_gateway_reads_only_its_own_commands(broker: DeployedBroker) -> None:
    first, second = _gateways()
    got_first: list[str] = []
    got_second: list[str] = []
    async with (
        _client(broker, "hub") as hub,
        _client(broker, first.gateway.id) as one,
        _client(broker, second.gateway.id) as two,
    ):
        await one.subscribe(TREE.filter(Scope(), Channel.CMD), qos=1)  # every gateway's, it hopes
        await one.subscribe(_topic(second, Channel.CMD, "confirm"), qos=1)
        where = Scope(second.gateway.area.district, second.gateway.area.street)
        await two.subscribe(TREE.filter(where, Channel.CMD, second.gateway.id), qos=1)
        listeners = [
            asyncio.create_task(_collect(one, got_first)),
            asyncio.create_task(_collect(two, got_second)),
        ]
        for_second = _topic(second, Channel.CMD, "confirm")
        for_first = _topic(first, Channel.CMD, "confirm")
        await hub.publish(for_second, b"{}", qos=1)
        await hub.publish(for_first, b"{}", qos=1)
        await eventually(lambda: for_first in got_first, what="the gateway's own command")
        await eventually(lambda: for_second in got_second, what="the other gateway's command")
        for task in listeners:
            task.cancel()
    assert got_first == [for_first]


async def test_only_the_users_of_env_example_get_in(broker: DeployedBroker) -> None:
    first, second = _gateways()
    for user, password in (
        (first.gateway.id, _password(second.gateway.id)),  # another gateway's password
        (None, None),  # anonymous
        ("gw-unknown-01", _password(first.gateway.id)),
    ):
        with pytest.raises(aiomqtt.MqttError):
            async with _client(broker, user, password):
                pass
    async with _client(broker, first.gateway.id):
        pass


def test_the_healthcheck_passes_only_with_the_hubs_login(broker: DeployedBroker) -> None:
    kind, check = services()["mqtt"]["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    here = check.replace("$$", "$").replace("-h localhost", f"-h {broker.host} -p {broker.port}")
    env = {"PATH": os.environ["PATH"], **environment("mqtt")}
    assert subprocess.run(["sh", "-c", here], env=env, capture_output=True).returncode == 0
    env["STREETWATCH_MQTT_PASSWORD_HUB"] = "not-the-password"
    assert subprocess.run(["sh", "-c", here], env=env, capture_output=True).returncode != 0
