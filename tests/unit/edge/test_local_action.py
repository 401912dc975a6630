"""Local warning while the uplink is down: who sounds, and the webhook a real server receives."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from edge.config import LocalActionConfig, SensorConfig
from edge.local_action import LocalAlarm
from streetwatch.anomalies import AnomalyType
from streetwatch.counters import Counters
from streetwatch.levels import Level
from streetwatch.messages import AnomalyEvent, EventState

SENSOR = SensorConfig.model_validate(
    {
        "id": "smoke-1",
        "kind": "smoke",
        "source": {"ecosystem": "zigbee2mqtt", "device": "b3/smoke"},
        "placement": {"building": "b3", "floor": 2, "risk_point": "kitchen"},
    }
)


def event(level: Level, state: EventState = EventState.RAISED, **kw: Any) -> AnomalyEvent:
    fields: dict[str, Any] = {
        "id": "gw.abcdef12.1",
        "gateway": "gw",
        "boot": "abcdef12",
        "seq": 1,
        "sensor": "smoke-1",
        "kind": "smoke",
        "type": AnomalyType.ALARM_FLAG,
        "level": level,
        "state": state,
        "t": 1_795_000_000_000,
    }
    fields.update(kw)
    return AnomalyEvent(**fields)


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A real HTTP server on 127.0.0.1 that records the JSON bodies posted to it."""
    bodies: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            bodies.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/pa", bodies
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.mark.parametrize(
    ("ev", "uplink_up", "sounds"),
    [
        (event(Level.ORANGE), False, True),
        (event(Level.RED), False, True),
        (event(Level.YELLOW), False, False),  # below min_level
        (event(Level.RED), True, False),  # the hub is reachable: it pages people
        (event(Level.RED, EventState.CLEARED), False, False),
        (event(Level.RED, test=True, type=AnomalyType.TEST), False, False),
        (event(Level.NONE, type=AnomalyType.SELF_TEST), False, False),
    ],
)
def test_who_sounds(ev: AnomalyEvent, uplink_up: bool, sounds: bool) -> None:
    async def publish(topic: str, payload: bytes) -> None:
        raise AssertionError("not called by should_sound")

    alarm = LocalAlarm(LocalActionConfig(), publish=publish, http=None, counters=Counters())
    alarm.uplink_up = uplink_up
    assert alarm.should_sound(ev, now_ms=0) is sounds


async def test_siren_and_webhook_and_silence(
    receiver: tuple[str, list[dict[str, Any]]],
) -> None:
    url, bodies = receiver
    published: list[tuple[str, bytes]] = []

    async def publish(topic: str, payload: bytes) -> None:
        published.append((topic, payload))

    counters = Counters()
    config = LocalActionConfig(siren_topic="local/siren", webhook_url=url)
    async with httpx.AsyncClient(trust_env=False) as http:
        alarm = LocalAlarm(config, publish=publish, http=http, counters=counters)
        assert await alarm.on_event(event(Level.RED), SENSOR, now_ms=1000)
        alarm.silence(until_ms=5000, now_ms=1000)
        assert not await alarm.on_event(event(Level.RED), SENSOR, now_ms=2000)
        assert await alarm.on_event(event(Level.RED), SENSOR, now_ms=6000)
    assert [t for t, _ in published] == ["local/siren", "local/siren"]
    assert len(bodies) == 2
    assert bodies[0]["level"] == "red"
    assert "b3栋" in bodies[0]["text"]
    assert "厨房" in bodies[0]["text"]
    assert "红色预警" in bodies[0]["text"]
    assert counters.get("local_action", "webhook") == 2


async def test_failing_webhook_is_counted_and_siren_still_sounds() -> None:
    async def publish(topic: str, payload: bytes) -> None:
        return None

    counters = Counters()
    config = LocalActionConfig(siren_topic="s", webhook_url="http://127.0.0.1:9/unreachable")
    async with httpx.AsyncClient(trust_env=False) as http:
        alarm = LocalAlarm(config, publish=publish, http=http, counters=counters)
        assert await alarm.on_event(event(Level.ORANGE), SENSOR, now_ms=0)
    assert counters.get("local_action_failed", "webhook") == 1
    assert counters.get("local_action", "siren") == 1
