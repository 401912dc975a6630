"""The Mosquitto settings we ship hold a hub outage's backlog, and the ACL keeps gateways apart.

Mosquitto runs with ``deploy/mosquitto/streetwatch-hub.conf`` and ``streetwatch.acl`` as
shipped, except for what a test must change: the port, the data directory, the log, the user
to run as, and the topic prefix in the ACL.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import secrets
import subprocess
import time
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from support.fleet import Fleet
from support.services import MosquittoService, find_binary
from support.waiting import eventually

from streetwatch.topics import Channel

from .conftest import fleet_of, make_hub_config, running_hub
from .stored import stored_readings

DEPLOY = Path(__file__).resolve().parents[3] / "deploy" / "mosquitto"
STOCK_QUEUE = 1000


class ShippedMosquitto(MosquittoService):
    def __init__(self, data_dir: Path, prefix: str, users: dict[str, str]) -> None:
        self.prefix = prefix
        self.users = users
        super().__init__(data_dir)

    def _write_config(self) -> None:
        passwd = self.data_dir / "passwd"
        passwd.write_text("".join(f"{u}:{p}\n" for u, p in self.users.items()))
        passwd.chmod(0o600)
        subprocess.run([find_binary("mosquitto_passwd"), "-U", str(passwd)], check=True)
        acl = self.data_dir / "acl"
        acl.write_text(
            (DEPLOY / "streetwatch.acl").read_text().replace("sw/v1/", f"{self.prefix}/sw/v1/")
        )
        acl.chmod(0o600)
        replace = {
            "listener ": f"listener {self.port} {self.host}",
            "password_file ": f"password_file {passwd}",
            "acl_file ": f"acl_file {acl}",
            "persistence_location ": f"persistence_location {self.data_dir}/",
            "log_dest ": "log_dest stdout",
        }
        lines = []
        for line in (DEPLOY / "streetwatch-hub.conf").read_text().splitlines():
            key = next((k for k in replace if line.startswith(k)), None)
            lines.append(replace[key] if key else line)
        lines.append(f"user {pwd.getpwuid(os.geteuid()).pw_name}")
        self.conf_path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def shipped(tmp_path: Path, topic_prefix: str) -> Any:
    users = {"hub": secrets.token_hex(8), f"{topic_prefix}-00": secrets.token_hex(8)}
    broker = ShippedMosquitto(tmp_path / "broker", topic_prefix, users)
    broker.start()
    yield broker
    broker.stop()


async def test_a_backlog_beyond_the_stock_queue_reaches_the_hub(
    shipped: ShippedMosquitto, tmp_path: Path, topic_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREETWATCH_HUB_MQTT__PASSWORD", shipped.users["hub"])
    config = make_hub_config(tmp_path / "hub", shipped, topic_prefix, {"mqtt": {"username": "hub"}})
    (gw,) = fleet_of(1, topic_prefix, sensors=1)
    now = int(time.time() * 1000)
    async with Fleet(
        shipped.host,
        shipped.port,
        topic_prefix,
        [gw],
        username=gw.gateway,
        password=shipped.users[gw.gateway],
    ) as f:
        async with running_hub(config, tmp_path):
            await f.send(gw, gw.birth(now))
            await f.send(gw, gw.telemetry(now - 1))
            await eventually(f.all_confirmed, what="the hub at work")
        # The hub is down (its session stays): the gateway goes on publishing.
        for i in range(STOCK_QUEUE * 3):
            await f.send(gw, gw.telemetry(now + i))
        async with running_hub(config, tmp_path) as hub:
            await eventually(f.all_confirmed, within_s=60, what="the whole backlog confirmed")
            await hub.writer.flush()
            assert hub.counters.get("received", "data") >= STOCK_QUEUE * 3
    stored = await stored_readings(config, tmp_path, topic_prefix)
    assert len(stored) == STOCK_QUEUE * 3 + 1


async def test_a_gateway_cannot_publish_as_another(
    shipped: ShippedMosquitto, topic_prefix: str
) -> None:
    gw = f"{topic_prefix}-00"
    received: list[str] = []
    async with (
        aiomqtt.Client(
            shipped.host, shipped.port, username="hub", password=shipped.users["hub"]
        ) as hub_client,
        aiomqtt.Client(
            shipped.host, shipped.port, username=gw, password=shipped.users[gw]
        ) as gateway,
    ):
        await hub_client.subscribe(f"{topic_prefix}/sw/v1/+/+/+/data", qos=1)
        other = f"{topic_prefix}/sw/v1/pudong/huamu/{topic_prefix}-99/{Channel.DATA.value}"
        own = f"{topic_prefix}/sw/v1/pudong/huamu/{gw}/{Channel.DATA.value}"
        await gateway.publish(other, b"{}", qos=1)  # accepted by the broker, then dropped
        await gateway.publish(own, b"{}", qos=1)

        async def listen() -> None:
            async for message in hub_client.messages:
                received.append(str(message.topic))

        task = asyncio.create_task(listen())
        await eventually(lambda: own in received, what="the gateway's own topic")
        task.cancel()
    assert other not in received
