"""`streetwatch edge discover` against a real Mosquitto, fed with every payload fixture."""

from __future__ import annotations

import asyncio
import uuid

import aiomqtt
from click.testing import CliRunner
from support.services import MosquittoService
from unit.edge.decoders.payload_cases import Case, load_cases

from edge.config import GatewayConfig
from edge.discover_cli import PASSWORD_ENV, command
from streetwatch.config import load_config_text
from streetwatch.kinds import Ecosystem
from streetwatch.topics import DEFAULT_BASES

HEAD = """\
gateway:
  id: gw-1
  area: {district: pudong, street: huamu, community: lianyang}
uplink: {}
"""


def publish_retained(broker: MosquittoService, messages: list[tuple[str, bytes]]) -> None:
    async def run() -> None:
        name = f"fixtures-{uuid.uuid4().hex[:8]}"
        async with aiomqtt.Client(broker.host, broker.port, identifier=name) as client:
            for topic, payload in messages:
                await client.publish(topic, payload, qos=1, retain=True)

    asyncio.run(run())


def device_of(case: Case, prefix: str) -> str:
    if case.ecosystem is Ecosystem.JSON:
        return f"{prefix}/{case.topic}"
    return case.device_topic.device


def _seen(case: Case) -> bool:
    return case.expect.get("discover", False) is not False


def test_discover_lists_every_device_with_its_kind(
    mosquitto: MosquittoService, topic_prefix: str
) -> None:
    cases = load_cases()
    messages = [(f"{topic_prefix}/{c.topic}", c.payload) for c in cases]
    publish_retained(mosquitto, messages)
    try:
        args = ["--broker", mosquitto.url, "--seconds", "3", "--topic-root", topic_prefix]
        result = CliRunner().invoke(command, args)
    finally:
        publish_retained(mosquitto, [(topic, b"") for topic, _ in messages])  # clear them

    assert result.exit_code == 0, result.output
    devices = {(c.ecosystem, device_of(c, topic_prefix)) for c in cases if _seen(c)}
    assert f"{len(devices)} devices seen" in result.stderr
    config = load_config_text(GatewayConfig, HEAD + result.stdout, "discovered.yaml")
    sensors = {(s.source.ecosystem, s.source.device): s for s in config.sensors}
    checked = 0
    for case in cases:
        expected = case.expect.get("discover", False)
        device = device_of(case, topic_prefix)
        line = f'device: "{device}"'
        if isinstance(expected, str):
            sensor = sensors.pop((case.ecosystem, device))
            assert sensor.kind == expected, case.id
            if case.ecosystem is not Ecosystem.JSON:
                assert sensor.source.base_topic == f"{topic_prefix}/{DEFAULT_BASES[case.ecosystem]}"
            checked += 1
        elif expected is None:
            assert f"#     {line}" in result.stdout, case.id  # listed, commented out
        else:
            assert line not in result.stdout, case.id
    assert checked >= 20
    assert sensors == {}, "devices that no fixture published"


def test_discover_with_credentials(mosquitto_auth: MosquittoService, topic_prefix: str) -> None:
    runner = CliRunner()
    args = ["--broker", mosquitto_auth.url, "--seconds", "0.5", "--topic-root", topic_prefix]
    good = runner.invoke(
        command,
        [*args, "--username", "hub"],
        env={PASSWORD_ENV: mosquitto_auth.passwords["hub"]},
    )
    assert good.exit_code == 0, good.output
    assert good.stdout.startswith("sensors: []")
    bad = runner.invoke(command, [*args, "--username", "hub"], env={PASSWORD_ENV: "wrong"})
    assert bad.exit_code == 1
    assert f"cannot listen on {mosquitto_auth.url}" in bad.output
