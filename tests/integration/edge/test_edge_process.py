"""The real `streetwatch edge run` process, killed with SIGKILL.

* Killed while connected: the broker publishes the gateway's will, so the hub learns of its
  death at once (retained offline state for that boot).
* Killed during an outage with alarms in its outbox: the next start replays them from disk, and
  the hub receives every one.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import aiomqtt
import orjson
import pytest
import yaml
from support.hub_peer import HubPeer
from support.services import (
    ManagedProcess,
    MosquittoService,
    start_mosquitto,
    unix_socket_answers,
)
from support.waiting import eventually

from edge.control import request

STREETWATCH = str(Path(sys.executable).with_name("streetwatch"))


def write_config(tmp: Path, local: MosquittoService, uplink: MosquittoService, prefix: str) -> Path:
    data: dict[str, Any] = {
        "gateway": {"id": "gw-k", "area": {"district": "pd", "street": "hm", "community": "ly"}},
        "local_broker": {"host": local.host, "port": local.port},
        "uplink": {
            "host": uplink.host,
            "port": uplink.port,
            "topic_prefix": prefix,
            "reconnect_min_s": 0.2,
            "reconnect_max_s": 1,
            "keepalive_s": 5,
        },
        "buffer": {"path": "outbox.sqlite3"},
        "health": {"control_socket": "gw.sock"},
        "sensors": [
            {
                "id": "water-1",
                "kind": "water_level",
                "source": {"ecosystem": "json", "device": f"{prefix}/dev/water-1"},
            }
        ],
    }
    file = tmp / "gateway.yaml"
    file.write_text(yaml.safe_dump(data), encoding="utf-8")
    return file


async def status(tmp: Path) -> dict[str, Any]:
    try:
        return await request(tmp / "gw.sock", {"op": "status"})
    except (ConnectionError, OSError):
        return {}


def edge_process(file: Path, tmp: Path, n: int) -> ManagedProcess:
    return ManagedProcess(
        f"edge-{n}",
        [STREETWATCH, "edge", "run", "-c", str(file)],
        tmp / f"edge-{n}.log",
        ready=lambda: unix_socket_answers(tmp / "gw.sock"),
        cwd=tmp,
    )


@pytest.mark.timeout(90)
async def test_kill_9_will_and_outbox_survival(
    mosquitto: MosquittoService, topic_prefix: str, tmp_path: Path
) -> None:
    uplink = start_mosquitto(tmp_path / "uplink-broker")
    hub = HubPeer(uplink.host, uplink.port, topic_prefix, client_id=f"hub-{topic_prefix}")
    file = write_config(tmp_path, mosquitto, uplink, topic_prefix)
    processes: list[ManagedProcess] = []
    try:
        async with hub, aiomqtt.Client(mosquitto.host, mosquitto.port) as devices:

            async def water(depth: float) -> None:
                topic = f"{topic_prefix}/dev/water-1"
                await devices.publish(topic, orjson.dumps({"depth": depth}), qos=1)

            async def boot_when_connected() -> str:
                async def connected() -> bool:
                    now = await status(tmp_path)
                    return bool(
                        now.get("uplink", {}).get("connected")
                        and now.get("local_broker", {}).get("connected")
                    )

                await eventually(connected, what="the edge process to connect")
                return str((await status(tmp_path))["boot"])

            # 1. Killed while connected: the will tells the hub.
            processes.append(edge_process(file, tmp_path, 1))
            processes[-1].start()
            boot1 = await boot_when_connected()
            await hub.wait_for(lambda h: any(s.online and s.boot == boot1 for s in h.states()))
            processes[-1].kill()
            await hub.wait_for(
                lambda h: any(not s.online and s.boot == boot1 for s in h.states()), within_s=20
            )

            # 2. Killed during an outage with alarms stored: nothing is lost.
            processes.append(edge_process(file, tmp_path, 2))
            processes[-1].start()
            boot2 = await boot_when_connected()
            uplink.stop()

            async def disconnected() -> bool:
                return (await status(tmp_path)).get("uplink", {}).get("connected") is False

            await eventually(disconnected, what="the edge to notice the outage")
            for depth in (20.0, 20.0, 60.0, 60.0, 60.0):
                await water(depth)
                # A gauge reports once a minute; samples in the same millisecond with the same
                # value are taken for a duplicated delivery and dropped, so pace them.
                await asyncio.sleep(0.02)

            async def events_stored() -> bool:
                depth = (await status(tmp_path)).get("buffer", {}).get("depth", {})
                return int(depth.get("event", 0)) >= 2

            try:
                await eventually(events_stored, what="the alarms in the outbox")
            except AssertionError as exc:
                raise AssertionError(f"no alarms stored; agent: {await status(tmp_path)}") from exc
            stored = (await status(tmp_path))["buffer"]["depth"]["event"]
            processes[-1].kill()

            uplink.restart()
            processes.append(edge_process(file, tmp_path, 3))
            processes[-1].start()
            boot3 = await boot_when_connected()
            assert len({boot1, boot2, boot3}) == 3, "every start is a new boot"
            await hub.wait_for(
                lambda h: len({e.seq for e in h.events() if e.boot == boot2}) >= stored, within_s=30
            )
            replayed = [e for e in hub.events() if e.boot == boot2]
            assert {e.seq for e in replayed} == set(range(stored))
            assert all(e.replayed for e in replayed)
            assert max(e.level.rank for e in replayed) == 4  # red

            async def drained() -> bool:
                depth = (await status(tmp_path)).get("buffer", {}).get("depth", {})
                return bool(depth.get("event") == 0)

            await eventually(drained, what="the hub's confirmations to empty the outbox")
    finally:
        for process in processes:
            process.stop()
        uplink.stop()
