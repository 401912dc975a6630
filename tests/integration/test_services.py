"""The test servers themselves: each one is really started, used end to end and stopped."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision
from support.services import (
    InfluxDBService,
    ManagedProcess,
    MosquittoService,
    ServiceError,
    VictoriaMetricsService,
    start_mosquitto,
)

from streetwatch.codec import decode_channel, encode
from streetwatch.kinds import KindName
from streetwatch.messages import Reading, TelemetryBatch
from streetwatch.topics import Channel, GatewayTopic, Scope, TopicTree

WAIT = 10.0  # seconds any single expected MQTT delivery may take


def client(broker: MosquittoService, **kwargs: Any) -> aiomqtt.Client:
    return aiomqtt.Client(broker.host, broker.port, **kwargs)


async def receive_until(mqtt: aiomqtt.Client, last_payload: bytes) -> list[tuple[str, bytes]]:
    """(topic, payload) of every message received, up to and including `last_payload`."""
    received: list[tuple[str, bytes]] = []
    async with asyncio.timeout(WAIT):
        async for message in mqtt.messages:
            assert isinstance(message.payload, bytes)
            received.append((message.topic.value, message.payload))
            if message.payload == last_payload:
                break
    return received


# --------------------------------------------------------------------------------- Mosquitto


async def test_mosquitto_qos1_round_trip(mosquitto: MosquittoService, topic_prefix: str) -> None:
    assert mosquitto.url == f"mqtt://127.0.0.1:{mosquitto.port}"
    assert mosquitto.port != 1883
    topic = f"{topic_prefix}/sw/v1/d1/s1/gw-a/telemetry"
    async with client(mosquitto, identifier=f"{topic_prefix}-sub") as subscriber:
        await subscriber.subscribe(topic, qos=1)
        async with client(mosquitto, identifier=f"{topic_prefix}-pub") as publisher:
            await publisher.publish(topic, b"hello", qos=1)
        assert await receive_until(subscriber, b"hello") == [(topic, b"hello")]


async def test_wire_message_round_trip_through_mosquitto(
    mosquitto: MosquittoService, topic_prefix: str
) -> None:
    """A telemetry batch built with the shared models, on the topic the shared tree builds."""
    tree = TopicTree(topic_prefix)
    topic = tree.gateway("pudong", "huamu", "gw-a", Channel.DATA)
    batch = TelemetryBatch(
        gateway="gw-a",
        boot="0123456789abcdef",
        seq=7,
        sent=1_795_000_000_000,
        readings=(
            Reading(
                sensor="w1", kind=KindName.WATER_LEVEL, t=1_795_000_000_000, values={"depth": 31.5}
            ),
        ),
    )
    payload = encode(batch)
    async with client(mosquitto, identifier=f"{topic_prefix}-hub") as hub:
        await hub.subscribe(tree.filter(Scope("pudong"), Channel.DATA), qos=1)
        async with client(mosquitto, identifier=f"{topic_prefix}-gw") as gateway:
            await gateway.publish(topic, payload, qos=1)
        ((got_topic, got_payload),) = await receive_until(hub, payload)
    assert tree.parse(got_topic) == GatewayTopic("pudong", "huamu", "gw-a", Channel.DATA)
    assert decode_channel(got_payload, Channel.DATA) == batch


async def test_mosquitto_restart_keeps_queued_qos1_for_persistent_session(
    tmp_path: Path, topic_prefix: str
) -> None:
    # A broker of its own: restarting the shared one would cut other tests' connections.
    broker = start_mosquitto(tmp_path / "broker")
    try:
        topic = f"{topic_prefix}/sw/v1/d1/s1/gw-a/alarm"
        session: dict[str, Any] = {"identifier": f"{topic_prefix}-hub", "clean_session": False}
        async with client(broker, **session) as subscriber:
            await subscriber.subscribe(topic, qos=1)
        async with client(broker) as publisher:
            await publisher.publish(topic, b"queued while offline", qos=1)

        port, pid = broker.port, broker.pid
        broker.restart()
        assert (broker.port, broker.alive()) == (port, True)
        assert broker.pid != pid

        async with client(broker, **session) as subscriber:
            received = await receive_until(subscriber, b"queued while offline")
        assert received == [(topic, b"queued while offline")]
    finally:
        broker.stop()


async def test_mosquitto_auth_refuses_anonymous_and_wrong_password(
    mosquitto_auth: MosquittoService,
) -> None:
    with pytest.raises(aiomqtt.MqttError):
        async with client(mosquitto_auth):
            pass
    with pytest.raises(aiomqtt.MqttError):
        async with client(mosquitto_auth, username="gw-a", password="not-the-password"):
            pass
    async with client(mosquitto_auth, username="gw-a", password=mosquitto_auth.passwords["gw-a"]):
        pass


async def test_mosquitto_acl_keeps_gateway_in_its_own_topics(
    mosquitto_auth: MosquittoService, topic_prefix: str
) -> None:
    passwords = mosquitto_auth.passwords
    own = f"{topic_prefix}/sw/v1/d1/s1/gw-a/telemetry"
    forged = f"{topic_prefix}/sw/v1/d1/s1/gw-b/telemetry"
    async with client(mosquitto_auth, username="hub", password=passwords["hub"]) as hub:
        await hub.subscribe(f"{topic_prefix}/sw/v1/#", qos=1)
        async with client(mosquitto_auth, username="gw-a", password=passwords["gw-a"]) as gw_a:
            # Mosquitto 2 drops a denied QoS 0/1 publish silently (it still acks it). MQTT keeps
            # one publisher's messages in order, so once the allowed marker sent after the forged
            # message has arrived, the forged one would have arrived before it.
            await gw_a.publish(forged, b"forged", qos=1)
            await gw_a.publish(own, b"marker", qos=1)
        received = await receive_until(hub, b"marker")
    assert received == [(own, b"marker")]


async def test_mosquitto_acl_delivers_hub_commands_only_to_their_gateway(
    mosquitto_auth: MosquittoService, topic_prefix: str
) -> None:
    passwords = mosquitto_auth.passwords
    cmd_a = f"{topic_prefix}/sw/v1/d1/s1/gw-a/cmd/siren"
    cmd_b = f"{topic_prefix}/sw/v1/d1/s1/gw-b/cmd/siren"
    async with (
        client(mosquitto_auth, username="gw-a", password=passwords["gw-a"]) as gw_a,
        client(mosquitto_auth, username="gw-b", password=passwords["gw-b"]) as gw_b,
    ):
        await gw_a.subscribe(f"{topic_prefix}/sw/v1/d1/s1/gw-a/cmd/#", qos=1)
        # gw-b asks for every gateway's commands; the ACL lets only its own through.
        await gw_b.subscribe(f"{topic_prefix}/sw/v1/+/+/+/cmd/#", qos=1)
        async with client(mosquitto_auth, username="hub", password=passwords["hub"]) as hub:
            await hub.publish(cmd_a, b"on for gw-a", qos=1)
            await hub.publish(cmd_b, b"on for gw-b", qos=1)
        assert await receive_until(gw_a, b"on for gw-a") == [(cmd_a, b"on for gw-a")]
        assert await receive_until(gw_b, b"on for gw-b") == [(cmd_b, b"on for gw-b")]


# ---------------------------------------------------------------------------------- InfluxDB


def test_influxdb_line_protocol_round_trip(influxdb: InfluxDBService, topic_prefix: str) -> None:
    db = topic_prefix.replace("-", "_")
    influxdb.create_database(db)
    try:
        influxdb.write_lines(
            db,
            "reading,district=d1,gateway=gw-a,sensor=water value=0.42,alarm=true 1700000000123\n"
            "reading,district=d1,gateway=gw-b,sensor=water value=1.5,alarm=false 1700000000456\n",
        )
        rows = influxdb.query(db, "SELECT value, alarm FROM reading WHERE gateway = 'gw-a'")
        assert rows == [{"name": "reading", "time": 1700000000123, "value": 0.42, "alarm": True}]

        by_tags = influxdb.query(db, "SELECT last(value) FROM reading GROUP BY *")
        assert {row["gateway"]: row["last"] for row in by_tags} == {"gw-a": 0.42, "gw-b": 1.5}
        assert all(row["district"] == "d1" and row["sensor"] == "water" for row in by_tags)

        assert influxdb.count(db, "reading", "value") == 2
        assert influxdb.count(db, "no_such_measurement", "value") == 0
        with pytest.raises(ServiceError, match="error parsing query"):
            influxdb.query(db, "SELEC value FROM reading")
    finally:
        influxdb.drop_database(db)


# --------------------------------------------------------------------------- VictoriaMetrics


def test_victoriametrics_influx_v2_write_and_export(
    victoriametrics: VictoriaMetricsService, topic_prefix: str
) -> None:
    now_ms = int(time.time() * 1000)
    with InfluxDBClient(url=victoriametrics.url, token="unused", org="unused") as influx:
        influx.write_api(write_options=SYNCHRONOUS).write(
            bucket="streetwatch",
            record=f"reading,run={topic_prefix},sensor=water value=0.42,level=3i {now_ms}",
            write_precision=WritePrecision.MS,
        )
    # Measurement `reading` with field `value` becomes the metric `reading_value`.
    series = victoriametrics.wait_for_export(f'reading_value{{run="{topic_prefix}"}}')
    assert series == [
        {
            "metric": {"__name__": "reading_value", "run": topic_prefix, "sensor": "water"},
            "values": [0.42],
            "timestamps": [now_ms],
        }
    ]
    victoriametrics.wait_for_export(f'reading_level{{run="{topic_prefix}"}}')
    assert victoriametrics.series_count(f'{{run="{topic_prefix}"}}') == 2


# ----------------------------------------------------------------------- process management


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_stopped_service_leaves_no_process(tmp_path: Path, how: str) -> None:
    broker = start_mosquitto(tmp_path / "broker", persistence=False)
    pid = broker.pid
    os.kill(pid, 0)  # running
    getattr(broker, how)()
    assert not broker.alive()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_process_that_exits_early_reports_its_log(tmp_path: Path) -> None:
    process = ManagedProcess(
        "failing",
        ["sh", "-c", "echo 'bad config line 3' >&2; exit 3"],
        tmp_path / "failing.log",
        ready=lambda: False,
    )
    with pytest.raises(ServiceError, match=r"(?s)exited with code 3.*bad config line 3"):
        process.start()


def test_process_never_ready_is_stopped(tmp_path: Path) -> None:
    process = ManagedProcess(
        "sleeper",
        [sys.executable, "-c", "print('starting', flush=True); import time; time.sleep(60)"],
        tmp_path / "sleeper.log",
        ready=lambda: False,
        ready_timeout=0.5,
    )
    with pytest.raises(ServiceError, match=r"(?s)not ready after.*starting"):
        process.start()
    assert not process.alive()
    with pytest.raises(ProcessLookupError):
        os.kill(process.pid, 0)
