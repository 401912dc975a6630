"""Security at the broker: with the deployed password file and ACL, a gateway speaks only for
itself and hears only its own commands, with the real hub on the other side.

tests/integration/deploy/test_hub_broker.py already proves with raw clients that the broker drops
a gateway's publications on another gateway's state, data and event topics, that a gateway's
subscriptions deliver only its own commands, and that wrong passwords, unknown users and
anonymous clients are refused. These tests add what it leaves out: all four channels including
health, the hub itself as the receiver (nothing registered, counted, dead-lettered or stored for
the gateway spoken for, though the very same birth registers it when it sends it itself), the
hub's own commands (confirms) as what must not be overheard, and a gateway's password under
another gateway's name.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest
from integration.hub.conftest import HUAMU, running_hub
from support.fleet import VirtualGateway
from support.waiting import eventually

from hub.storage.base import QueryFilter
from streetwatch.codec import encode
from streetwatch.levels import Level
from streetwatch.topics import Channel, Scope, TopicTree

from .security_broker import SecuredBroker, recording, secured_broker

TREE = TopicTree()


@pytest.fixture
def pair(topic_prefix: str) -> tuple[VirtualGateway, VirtualGateway]:
    """Gateways A and B of one community, with ids (and MQTT users) unique to the test."""
    return (
        VirtualGateway(f"{topic_prefix}-a", HUAMU[0], sensors=1),
        VirtualGateway(f"{topic_prefix}-b", HUAMU[0], sensors=1),
    )


@pytest.fixture
def broker(tmp_path: Path, pair: tuple[VirtualGateway, VirtualGateway]) -> Iterator[SecuredBroker]:
    with secured_broker(tmp_path / "broker", [g.gateway for g in pair]) as running:
        yield running


def data_confirmed(gateway: VirtualGateway) -> bool:
    return any(channel == "data" for _, channel, _ in gateway.confirmed)


async def test_a_gateway_cannot_speak_for_another_on_any_channel(
    broker: SecuredBroker, pair: tuple[VirtualGateway, VirtualGateway], tmp_path: Path
) -> None:
    a, b = pair
    now = int(time.time() * 1000)
    b_birth = b.birth(now)
    async with (
        running_hub(broker.hub_config(tmp_path / "hub"), tmp_path) as hub,
        broker.fleet(a, [a, b]) as as_a,
    ):
        # A, logged in as itself, sends B's whole conversation on B's topics.
        for message in (b_birth, b.telemetry(now), b.event(now, Level.RED), b.health(now)):
            await as_a.send(b, message)
        # Then its own: once the hub confirms it, whatever A sent before has been handled.
        await as_a.send(a, a.birth(now))
        await as_a.send(a, a.telemetry(now))
        await eventually(lambda: data_confirmed(a), what="A's own data confirmed")

        assert hub.registry.get(b.gateway) is None
        assert hub.counters.by_reason("received") == {"state": 1, "data": 1}  # A's only
        assert hub.counters.by_reason("deferred") == {}
        assert hub.counters.by_reason("rejected") == {}
        assert hub.dead_letters.counts() == {}
        await hub.writer.flush()
        assert await hub.backend.query(QueryFilter(since_ms=0, gateway=b.gateway)) == []
        assert await hub.responding.store.active() == []

        # The control: the same birth, sent by B itself, registers B.
        async with broker.fleet(b, [b]) as as_b:
            await as_b.publish_raw(as_b.topic(b, Channel.STATE), encode(b_birth), retain=True)
            await eventually(lambda: hub.registry.get(b.gateway) is not None, what="B's birth")


async def test_a_gateway_cannot_overhear_the_hubs_commands_to_another(
    broker: SecuredBroker, pair: tuple[VirtualGateway, VirtualGateway], tmp_path: Path
) -> None:
    a, b = pair
    now = int(time.time() * 1000)
    area = b.area
    b_commands = TREE.gateway_commands(area.district, area.street, b.gateway)
    a_commands = TREE.gateway_commands(area.district, area.street, a.gateway)
    hoped_for = ["#", "sw/v1/#", TREE.filter(Scope(), Channel.CMD), b_commands, a_commands]
    async with (
        running_hub(broker.hub_config(tmp_path / "hub"), tmp_path),
        broker.fleet(b, [b]) as as_b,
        broker.fleet(a, [a]) as as_a,
        broker.client(a.gateway, identifier=f"{a.gateway}-listener") as listener,
        recording(listener, hoped_for) as overheard,
    ):
        await as_b.send(b, b.birth(now))
        await as_b.send(b, b.telemetry(now))
        await eventually(lambda: data_confirmed(b), what="the hub's confirm to B")
        # The hub's commands to A come after its confirm to B: once A's listener has one of its
        # own, it would have had B's before it.
        await as_a.send(a, a.birth(now))
        await as_a.send(a, a.telemetry(now))
        await eventually(lambda: data_confirmed(a), what="the hub's confirm to A")
        await eventually(
            lambda: any(t.startswith(a_commands.removesuffix("+")) for t in overheard),
            what="A's listener hears A's own commands",
        )
    assert [t for t in overheard if f"/{b.gateway}/" in t] == []


async def test_a_gateways_password_does_not_open_anothers_account(
    broker: SecuredBroker, pair: tuple[VirtualGateway, VirtualGateway]
) -> None:
    a, b = pair
    with pytest.raises(aiomqtt.MqttError):
        async with broker.client(b.gateway, broker.passwords[a.gateway]):
            pass
    async with broker.client(b.gateway):  # B's own password works
        pass
