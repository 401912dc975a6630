"""The hub broker as deployed, for the security tests: its own users, the shipped ACL.

``deploy/mosquitto/entrypoint.sh`` runs as in the ``mqtt`` container
(``integration.deploy.test_hub_broker.DeployedBroker``): ``write-passwords.sh`` writes the
password file from ``STREETWATCH_MQTT_USERS`` and ``STREETWATCH_MQTT_PASSWORD_<USER>`` with
``mosquitto_passwd -b``, ``streetwatch.acl`` is copied as shipped and ``streetwatch-hub.conf``
is used with the container's changes. Each test gets a broker of its own, so that its users
(gateway ids unique to the test) are known when the password file is written, and nothing one
test leaves retained reaches another.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiomqtt
from integration.deploy.test_hub_broker import DeployedBroker
from integration.hub.conftest import hub_config_data
from support.fleet import Fleet, VirtualGateway
from unit.deploy.stack import mqtt_password_variable

from hub.config import HubConfig

__all__ = ["HUB_USER", "SecuredBroker", "recording", "secured_broker"]

HUB_USER = "hub"


@dataclass(frozen=True)
class SecuredBroker:
    """A running deployed broker and the password of each of its users."""

    service: DeployedBroker
    passwords: dict[str, str]

    def client(
        self, user: str | None, password: str | None = None, **options: Any
    ) -> aiomqtt.Client:
        """A client logged in as ``user``; with that user's own password unless one is given."""
        if user is not None and password is None:
            password = self.passwords[user]
        return aiomqtt.Client(
            self.service.host, self.service.port, username=user, password=password, **options
        )

    def fleet(self, login: VirtualGateway, gateways: list[VirtualGateway]) -> Fleet:
        """Publishes for ``gateways`` logged in as ``login`` (with its own password)."""
        return Fleet(
            self.service.host,
            self.service.port,
            "",  # the shipped ACL has no topic prefix
            gateways,
            username=login.gateway,
            password=self.passwords[login.gateway],
        )

    def hub_config(self, state_dir: Path, extra: dict[str, Any] | None = None) -> HubConfig:
        """A hub logged in as the ACL's hub user."""
        data = hub_config_data(state_dir, self.service, "", extra)
        data["mqtt"].update(username=HUB_USER, password=self.passwords[HUB_USER])
        return HubConfig(**data)


@contextmanager
def secured_broker(data_dir: Path, gateways: list[str]) -> Iterator[SecuredBroker]:
    """The deployed broker with the users ``hub`` and ``gateways``, each with a random password."""
    passwords = {user: secrets.token_urlsafe(18) for user in (HUB_USER, *gateways)}
    env = {"STREETWATCH_MQTT_USERS": " ".join(passwords)}
    env |= {mqtt_password_variable(user): password for user, password in passwords.items()}
    service = DeployedBroker(data_dir, env)
    service.start()
    try:
        yield SecuredBroker(service, passwords)
    finally:
        service.stop()


@asynccontextmanager
async def recording(client: aiomqtt.Client, filters: list[str]) -> AsyncIterator[list[str]]:
    """Subscribe ``client`` to ``filters`` (QoS 1); the topic of every delivery, in order."""
    for topic_filter in filters:
        await client.subscribe(topic_filter, qos=1)
    topics: list[str] = []

    async def listen() -> None:
        async for message in client.messages:
            topics.append(str(message.topic))

    task = asyncio.create_task(listen())
    try:
        yield topics
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
