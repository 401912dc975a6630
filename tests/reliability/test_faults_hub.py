"""Faults on the hub side, each in the middle of a steady stream, each ending in one count.

Every case runs the same street (tests/reliability/faults_hub.py): a real hub process on a real
Mosquitto, storing into a real InfluxDB 1.x, paging through a webhook; water gauges reporting
every 40 ms, a red fire answered by the grid worker before the fault, its detector clearing and
raising again throughout. Each ends with ``Accounting.check``: no reading or event the broker
acknowledged (or the hub confirmed) is missing from the database or stored twice, each hazard at
each place opened one incident, the answered fire paged nobody again, each detector's incident
shows its latest event, and an alarm raised after the fault was paged within seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.waiting import eventually

from .faults_hub import SECRETS, HubRig, Load


@pytest.fixture
async def rig(
    tmp_path: Path, topic_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[HubRig]:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)  # the hub process inherits them
    async with HubRig(tmp_path, topic_prefix) as hub_rig:
        yield hub_rig


async def test_broker_restart_mid_stream(rig: HubRig) -> None:
    async def restart_broker(rig: HubRig, load: Load) -> None:
        before = (await rig.metrics())["streetwatch_hub_mqtt_reconnects_total"]
        # SIGTERM: Mosquitto saves its sessions and queues, then starts on the same port and data.
        await asyncio.to_thread(rig.broker.restart)
        await rig.until(
            "the hub back on the restarted broker",
            lambda m: (
                m["streetwatch_hub_mqtt_reconnects_total"] > before
                and m["streetwatch_hub_mqtt_connected"] == 1
            ),
        )
        await eventually(lambda: load.reconnects > 0, what="the gateways back on the broker")

    (await rig.run(restart_broker)).check()


async def test_hub_kill_9_mid_stream(rig: HubRig) -> None:
    async def kill_hub(rig: HubRig, load: Load) -> None:
        pid = rig.hub.pid
        rig.hub.kill()  # SIGKILL: nothing saved on the way down
        await load.progress(10, "the stream while the hub is dead")  # the broker queues it
        await asyncio.to_thread(rig.hub.start)
        assert rig.hub.pid != pid
        await rig.hub_connected()

    (await rig.run(kill_hub)).check()


async def test_database_down_and_back_mid_stream(rig: HubRig) -> None:
    async def database_down(rig: HubRig, load: Load) -> None:
        await asyncio.to_thread(rig.influxdb.stop)
        await rig.until(
            "the hub spooling",
            lambda m: (
                m["streetwatch_hub_database_up"] == 0 and m["streetwatch_hub_spool_points"] > 0
            ),
        )
        # Durable in the spool: the hub goes on confirming to the gateways.
        confirmed = len(load.confirmed())
        await eventually(
            lambda: len(load.confirmed()) > confirmed + 20, what="confirms while it is down"
        )
        await asyncio.to_thread(rig.influxdb.start)
        await rig.until(
            "the spool drained",
            lambda m: (
                m["streetwatch_hub_database_up"] == 1 and m["streetwatch_hub_spool_points"] == 0
            ),
        )

    (await rig.run(database_down)).check()


async def test_duplicated_and_reordered_delivery(rig: HubRig) -> None:
    # The whole stream arrives out of order (each block of rounds newest first) and twice; at
    # the fault, every alarm of the answered fire arrives once more, newest first.
    async def alarms_again(rig: HubRig, load: Load) -> None:
        await load.send_again(load.fire)
        await rig.until(
            "duplicates and gaps seen by the hub",
            lambda m: (
                m.get("streetwatch_hub_duplicates_total{channel=event}", 0) >= 2
                and m.get("streetwatch_hub_duplicates_total{channel=data}", 0) > 0
                and m["streetwatch_hub_gaps_opened_total"] > 0
            ),
        )

    (await rig.run(alarms_again, twice_reversed=True)).check()
