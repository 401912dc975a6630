"""`sim drive` against a real Mosquitto: every device message of the tape arrives, timed now.

The broker is a private one (its own port and directory), as the field broker of the stack is
the devices' alone; a listener subscribed to everything counts what arrives. The scenario is
short and played at 600×, so a round takes about a second.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiomqtt
import orjson
import pytest
from support.services import MosquittoService, start_mosquitto
from support.waiting import eventually

from simulators.run.drive import RoundReport, ScenarioDrive, compile_round
from simulators.scenarios import Scenario, load_scenario
from streetwatch.broker import BrokerConfig

SEED = 7
SPEED = 600.0
SCENARIO = """\
name: drive-check
title: A short storm and a fire, with controls a deployed stack must skip
city: {districts: 1, streets: 1, communities: 2, gateways: 1, mix: residential}
duration: 10m
tick: 10s
timeline:
  - {at: 1m, do: rain, streets: all, mm_h: 90}
  - {at: 2m, do: fire, where: {community: 0}, stage: flaming}
  - {at: 3m, do: uplink_cut, where: {community: 1}, for: 2m}
  - {at: 4m, do: test_alarm, where: {community: 0}}
"""


@pytest.fixture
def field_broker(tmp_path: Path) -> Iterator[MosquittoService]:
    broker = start_mosquitto(tmp_path / "field", persistence=False)
    yield broker
    broker.stop()


@pytest.fixture
def scenario(tmp_path: Path) -> Scenario:
    path = tmp_path / "drive-check.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return load_scenario(path)


@pytest.fixture
async def received(field_broker: MosquittoService) -> AsyncIterator[list[tuple[str, bytes]]]:
    """Every message published on the broker from now on, as (topic, payload)."""
    seen: list[tuple[str, bytes]] = []
    async with aiomqtt.Client(field_broker.host, field_broker.port) as client:
        await client.subscribe("#", qos=1)

        async def listen() -> None:
            async for message in client.messages:
                payload = message.payload
                assert isinstance(payload, bytes)
                seen.append((str(message.topic), payload))

        task = asyncio.create_task(listen())
        yield seen
        task.cancel()


def _device_times_ms(payload: bytes) -> list[int]:
    """The device's own timestamps in a payload: ChirpStack `time`, Tasmota `Time`, Z2M
    `last_seen`, the JSON bridge's `ts`."""
    try:
        data: Any = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return []  # Tasmota's LWT "Online"
    if not isinstance(data, dict):
        return []
    times = [data["ts"]] if isinstance(data.get("ts"), int) else []
    for key in ("time", "Time", "last_seen"):
        if isinstance(data.get(key), str):
            times.append(int(datetime.fromisoformat(data[key]).timestamp() * 1000))
    return times


def _broker(service: MosquittoService) -> BrokerConfig:
    return BrokerConfig(host=service.host, port=service.port)


async def test_a_round_publishes_every_device_message_of_the_tape_timed_now(
    field_broker: MosquittoService, scenario: Scenario, received: list[tuple[str, bytes]]
) -> None:
    began_ms = int(time.time() * 1000)
    drive = ScenarioDrive(scenario, _broker(field_broker), seed=SEED, speed=SPEED)
    async with drive:
        (report,) = await asyncio.wait_for(drive.finished(), timeout=60)
    tape = compile_round(scenario, report.start_ms / 1000, SEED)
    expected = Counter((c.topic, c.payload) for c in tape.device_cues())
    await eventually(lambda: len(received) >= report.cues, what="every device message")

    assert report.start_ms == tape.start_ms
    assert began_ms - 1000 <= report.start_ms <= began_ms + 5000, "the round starts now"
    assert (report.cues, report.published, report.lost) == (expected.total(), expected.total(), 0)
    assert Counter(received) == expected
    assert {g.id for g in tape.city.gateways()} == {t.split("/")[0] for t, _ in received} - {
        "nbiot"
    }
    times = [t for _, payload in received for t in _device_times_ms(payload)]
    assert len(times) > expected.total() / 2
    assert all(report.start_ms <= t <= report.end_ms for t in times), "device times are today's"


async def test_looping_starts_each_round_anew_and_says_each_skip_once(
    field_broker: MosquittoService,
    scenario: Scenario,
    received: list[tuple[str, bytes]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    reports: list[RoundReport] = []
    with caplog.at_level(logging.INFO, logger="simulators.run.drive"):
        drive = ScenarioDrive(scenario, _broker(field_broker), seed=SEED, speed=SPEED, loop=True)
        async with drive:
            await eventually(lambda: len(drive.reports) >= 2, within_s=60, what="two rounds")
            reports = list(drive.reports[:2])
    first, second = reports
    round_s = scenario.duration / SPEED
    assert second.start_ms >= first.start_ms + (round_s - 1) * 1000, "round 2 starts later, now"
    for report in reports:
        tape = compile_round(scenario, report.start_ms / 1000, SEED, report.number)
        assert report.cues == report.published == sum(1 for _ in tape.device_cues())
        assert report.lost == 0
    skips = [r.getMessage() for r in caplog.records if r.getMessage().startswith("skipped:")]
    assert len(skips) == 2, skips  # the uplink cut and the test alarm, once over both rounds
    assert any("network to the hub" in s for s in skips)
    assert any("edge test-alarm" in s for s in skips)
