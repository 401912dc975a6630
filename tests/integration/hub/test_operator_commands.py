"""What an operator uses: the metrics endpoint, `hub query` and `hub dead-letters`."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import yaml
from click.testing import CliRunner, Result
from support.services import MosquittoService, free_port
from support.waiting import eventually

from hub.cli import group as hub_cli
from streetwatch.levels import Level
from streetwatch.topics import Channel

from .conftest import fleet, fleet_of, hub_config_data, running_hub


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.split(" ")[0] == name:
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in the metrics")


async def invoke(*args: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, hub_cli, list(args), catch_exceptions=False)


async def test_metrics_query_and_dead_letters(
    tmp_path: Path, mosquitto: MosquittoService, topic_prefix: str
) -> None:
    port = free_port()
    data = hub_config_data(
        tmp_path / "state", mosquitto, topic_prefix, {"metrics": {"prometheus_port": port}}
    )
    config_file = tmp_path / "hub.yaml"
    config_file.write_text(yaml.safe_dump(data, allow_unicode=True))
    from hub.config import HubConfig

    config = HubConfig(**data)
    gateways = fleet_of(2, topic_prefix)
    now = int(time.time() * 1000)
    async with running_hub(config, tmp_path) as hub, fleet(mosquitto, topic_prefix, gateways) as f:
        for g in gateways:
            await f.send(g, g.birth(now - 10_000))
            for step in range(3):
                await f.send(g, g.telemetry(now - 5_000 + step))
        await f.publish_raw(f.topic(gateways[0], Channel.DATA), b"\xff\xfe not json")
        await f.send(gateways[0], gateways[0].event(now, Level.ORANGE))  # water over 25 cm
        await eventually(f.all_confirmed, what="confirmed")

        async def an_incident() -> bool:
            return len(await hub.responding.store.active()) == 1

        await eventually(an_incident, what="the flood incident")
        await eventually(lambda: hub.counters.get("rejected", "not_json") == 1, what="refusal")
        await hub.writer.flush()
        async with httpx.AsyncClient() as client:
            text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    assert metric(text, 'streetwatch_hub_messages_total{channel="data"}') == 6
    assert metric(text, 'streetwatch_hub_rejected_total{reason="not_json"}') == 1
    assert metric(text, "streetwatch_hub_gateways_online") == 2
    assert metric(text, "streetwatch_hub_spool_points") == 0
    assert metric(text, "streetwatch_hub_database_up") == 1

    sensor = gateways[1].sensor_ids()[0]
    readings = ("--sensor", sensor, "--kind", "water_level", "--since", "1h")  # not sensor_info
    result = await invoke("query", "-c", str(config_file), *readings)
    assert result.exit_code == 0, result.output
    assert result.output.count(sensor) == 3  # one line per reading of that sensor
    street = await invoke("query", "-c", str(config_file), "--street", "pudong/huamu")
    assert street.output.count("water_level ") >= 18  # 2 gateways x 3 sensors x 3 readings
    letters = await invoke("dead-letters", "-c", str(config_file))
    assert letters.exit_code == 0, letters.output
    assert "not_json 1" in letters.output
    listed = await invoke("incidents", "-c", str(config_file), "--street", "pudong/huamu")
    assert listed.exit_code == 0, listed.output
    assert "内涝" in listed.output
    assert "open" in listed.output
    trail = await invoke("audit", "-c", str(config_file))
    assert trail.exit_code == 0, trail.output
    header, *entries = trail.output.splitlines()
    assert "incident" in header
    assert any(",opened," in line for line in entries)
    bad = await invoke("query", "-c", str(config_file), "--street", "pudong")
    assert bad.exit_code != 0
    assert "district/street" in bad.output
