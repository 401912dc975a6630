"""The running agent: hub commands, the installer's status and test-alarm, Prometheus metrics."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import orjson
import pytest
import yaml
from click.testing import CliRunner
from support.hub_peer import HubPeer
from support.services import MosquittoService, free_port
from support.waiting import eventually

from edge.agent import EdgeAgent
from edge.cli import group as edge_cli
from edge.config import GatewayConfig
from streetwatch.clock import ScaledClock
from streetwatch.codec import encode
from streetwatch.config import load_config
from streetwatch.messages import (
    AlertMode,
    GatewayHealth,
    Ping,
    Rebirth,
    ReloadConfig,
    Resend,
    SilenceSiren,
)
from streetwatch.topics import Channel, TopicTree


def write_config(path: Path, broker: MosquittoService, prefix: str, metrics_port: int) -> Path:
    data: dict[str, Any] = {
        "gateway": {"id": "gw-c", "area": {"district": "pd", "street": "hm", "community": "ly"}},
        "local_broker": {"host": broker.host, "port": broker.port},
        "uplink": {
            "host": broker.host,
            "port": broker.port,
            "topic_prefix": prefix,
            "resend_after_s": 3600,
        },
        "buffer": {"path": "outbox.sqlite3"},
        "reporting": {"window_s": 600, "batch_wait_s": 0.2, "deadband": 0.5},
        "health": {
            "interval_s": 3600,
            "prometheus_port": metrics_port,
            "control_socket": "gw.sock",
        },
        "sensors": [
            {
                "id": "water-1",
                "kind": "water_level",
                "source": {"ecosystem": "json", "device": f"{prefix}/dev/water-1"},
            }
        ],
    }
    file = path / "gateway.yaml"
    file.write_text(yaml.safe_dump(data), encoding="utf-8")
    return file


async def cli(*args: str) -> Any:
    """Run an installer's command as a person would (it runs its own event loop)."""
    return await asyncio.to_thread(CliRunner().invoke, edge_cli, list(args), catch_exceptions=False)


@pytest.mark.timeout(60)
async def test_commands_status_test_alarm_and_metrics(
    mosquitto: MosquittoService, topic_prefix: str, tmp_path: Path
) -> None:
    metrics_port = free_port()
    file = write_config(tmp_path, mosquitto, topic_prefix, metrics_port)
    config = load_config(GatewayConfig, file)
    clock = ScaledClock(start=time.time(), speed=10)
    tree = TopicTree(topic_prefix)

    def cmd_topic(name: str) -> str:
        return tree.gateway("pd", "hm", "gw-c", Channel.CMD, name)

    hub = HubPeer(mosquitto.host, mosquitto.port, topic_prefix, client_id=f"hub-{topic_prefix}")
    async with (
        hub,
        aiomqtt.Client(mosquitto.host, mosquitto.port) as client,
        EdgeAgent(config, base_dir=tmp_path, clock=clock) as agent,
    ):
        boot = agent.sequencer.boot
        await hub.wait_for(lambda h: any(s.online and s.boot == boot for s in h.states()))
        await eventually(lambda: agent.local.connected, what="the local subscription")

        async def sample(depth: float) -> None:
            await client.publish(
                f"{topic_prefix}/dev/water-1", orjson.dumps({"depth": depth}), qos=1
            )

        def readings() -> int:
            return sum(len(b.readings) for b in hub.batches() if b.boot == boot)

        # Normal times: report by exception, so small moves are summarised, not sent.
        for depth in (2.0, 2.1, 2.2):
            await sample(depth)
        await hub.wait_for(lambda h: readings() >= 1)
        await eventually(lambda: agent.pipeline.last_seen().get("water-1", 0) > 0)

        # Street alert mode (战时): every sample streams.
        await client.publish(cmd_topic("alert_mode"), encode(AlertMode(t=0, on=True)), qos=1)
        await eventually(
            lambda: agent.pipeline.alert_mode(int(clock.now() * 1000)), what="alert mode"
        )
        before = readings()
        for depth in (2.3, 2.4, 2.5, 2.6):
            await sample(depth)
        await hub.wait_for(lambda h: readings() >= before + 4)

        # The hub lost a batch before storing it (it does not confirm it) and asks for it again:
        # it comes back marked replayed. (resend_after_s is an hour here, so only the request
        # can bring it back.)
        hub.confirm = False
        await sample(2.7)
        await hub.wait_for(lambda h: readings() >= before + 5)
        lost = max(b.seq for b in hub.batches() if b.boot == boot)
        hub.confirm = True
        resend = Resend(t=0, boot=boot, channel="data", ranges=((lost, lost),))
        await client.publish(cmd_topic("resend"), encode(resend), qos=1)
        await hub.wait_for(
            lambda h: any(b.seq == lost and b.boot == boot and b.replayed for b in h.batches())
        )
        first, again = [b for b in hub.batches() if b.seq == lost and b.boot == boot][:2]
        assert again.readings == first.readings
        assert not first.replayed

        # Ping answers with a health message; rebirth publishes the birth again.
        states_before = len([s for s in hub.states() if s.boot == boot])
        await client.publish(cmd_topic("ping"), encode(Ping(t=0, nonce="n1")), qos=1)
        await client.publish(cmd_topic("rebirth"), encode(Rebirth(t=0)), qos=1)
        await hub.wait_for(lambda h: any(isinstance(r.message, GatewayHealth) for r in h.log))
        await hub.wait_for(lambda h: len([s for s in h.states() if s.boot == boot]) > states_before)
        health = next(r.message for r in hub.log if isinstance(r.message, GatewayHealth))
        assert health.alert_mode
        assert health.last_seen["water-1"] > 0

        # Silence the siren; a malformed command is refused and counted, never fatal.
        await client.publish(cmd_topic("silence_siren"), encode(SilenceSiren(t=0)), qos=1)
        await client.publish(cmd_topic("ping"), b'{"v":1,"command":"ping"}', qos=1)
        await eventually(lambda: agent.alarm.silenced_until_ms is not None, what="silence")
        await eventually(lambda: agent.counters.get("rejected_command", "schema") == 1)

        # The installer's view, read from the agent over its control socket.
        result = await cli("status", "-c", str(file), "--json")
        assert result.exit_code == 0, result.output
        status = orjson.loads(result.output)
        assert status["uplink"]["connected"] is True
        assert status["alert_mode"] is True
        (water,) = status["sensors"]
        assert water["id"] == "water-1"
        assert water["values"]["depth"] == pytest.approx(2.7)
        human = await cli("status", "-c", str(file))
        assert "water-1" in human.output
        assert "connected" in human.output

        # test-alarm proves the path to the hub, marked as a test.
        result = await cli("test-alarm", "water-1", "-c", str(file), "--wait", "20")
        assert result.exit_code == 0, result.output
        assert "confirmed" in result.output
        tests = [e for e in hub.events() if e.boot == boot and e.test]
        assert tests
        assert all(e.type.value == "test" for e in tests)
        unknown = await cli("test-alarm", "no-such-sensor", "-c", str(file), "--wait", "1")
        assert unknown.exit_code != 0

        # Prometheus metrics from the agent's own registry.
        async with httpx.AsyncClient(trust_env=False) as http:
            text = (await http.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
        assert "streetwatch_edge_uplink_connected 1.0" in text
        assert 'streetwatch_edge_sensor_last_seen_seconds{sensor="water-1"}' in text

        # Reload asks the runner to restart the agent with the file's current content.
        await client.publish(cmd_topic("reload_config"), encode(ReloadConfig(t=0)), qos=1)
        await asyncio.wait_for(agent.reload_requested.wait(), 10)
