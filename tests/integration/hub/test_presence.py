"""Presence on a real broker: a death, a silence and a street-wide outage, each reported once.

The hub runs on a manual clock: messages travel in real time through Mosquitto, the hub's timers
(presence checks, hold-back, silence) move only when the test advances the clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from support.fleet import Fleet, VirtualGateway
from support.services import MosquittoService, start_mosquitto
from support.waiting import eventually

from hub.events import HubEvent, HubEventType, OfflineCause
from hub.service import Hub
from streetwatch.clock import ManualClock, now_ms
from streetwatch.codec import encode
from streetwatch.topics import Channel, TopicTree

from .conftest import HUAMU, YANGJING, fleet, fleet_of, make_hub_config, running_hub

HEALTH_S = 60  # the fleet's health interval; silence after 3 of them


class World:
    def __init__(self, hub: Hub, fleet: Fleet, clock: ManualClock, events: asyncio.Queue[Any]):
        self.hub, self.fleet, self.clock, self.events = hub, fleet, clock, events
        self.seen: list[HubEvent] = []

    async def deliver(self, g: VirtualGateway, message: Any, channel: str) -> None:
        before = self.hub.counters.get("received", channel)
        await self.fleet.send(g, message)
        await eventually(
            lambda: self.hub.counters.get("received", channel) > before, what=f"{channel} in"
        )

    async def alive(self, gateways: list[VirtualGateway]) -> None:
        for g in gateways:
            await self.deliver(g, g.health(now_ms(self.clock)), "health")

    async def advance(self, seconds: float, keep_alive: list[VirtualGateway] = ()) -> None:  # type: ignore[assignment]
        """Move the hub's clock in 10 s steps; ``keep_alive`` report health on the way."""
        for _ in range(int(seconds // 10)):
            await self.clock.advance(10)
            await self.alive(list(keep_alive))
        await self.clock.settle()

    def presence_events(self) -> list[HubEvent]:
        while not self.events.empty():
            item = self.events.get_nowait()
            if isinstance(item, HubEvent):
                self.seen.append(item)
        return list(self.seen)


@asynccontextmanager
async def world(
    hub_config: Any,
    tmp_path: Path,
    broker: MosquittoService,
    prefix: str,
    gws: list[VirtualGateway],
) -> AsyncIterator[World]:
    clock = ManualClock(start=1_800_000_000)
    async with (
        running_hub(hub_config(), tmp_path, clock) as hub,
        fleet(broker, prefix, gws) as f,
        hub.events.subscribe() as events,
    ):
        w = World(hub, f, clock, events)
        for g in gws:
            await w.deliver(g, g.birth(now_ms(clock)), "state")
        yield w


async def test_a_death_is_one_offline_event(
    hub_config: Any, tmp_path: Path, mosquitto: MosquittoService, topic_prefix: str
) -> None:
    gws = fleet_of(4, topic_prefix, [*HUAMU, YANGJING])
    async with world(hub_config, tmp_path, mosquitto, topic_prefix, gws) as w:
        dead = gws[2]  # the only one in yangjing/juquan besides none: no area outage
        await w.deliver(dead, dead.birth(now_ms(w.clock), online=False), "state")
        await w.advance(120, keep_alive=[g for g in gws if g is not dead])
        events = w.presence_events()
    offline = [e for e in events if e.type is HubEventType.GATEWAY_OFFLINE]
    assert [(e.gateway, e.cause) for e in offline] == [(dead.gateway, OfflineCause.DEATH)]
    assert not [e for e in events if e.type is HubEventType.AREA_OUTAGE]


async def test_silence_is_one_offline_event_and_return_one_online(
    hub_config: Any, tmp_path: Path, mosquitto: MosquittoService, topic_prefix: str
) -> None:
    gws = fleet_of(4, topic_prefix, [*HUAMU, YANGJING])
    async with world(hub_config, tmp_path, mosquitto, topic_prefix, gws) as w:
        quiet = gws[0]
        others = [g for g in gws if g is not quiet]
        await w.advance(3 * HEALTH_S + 60, keep_alive=others)  # silent, then held back 30 s
        await w.advance(120, keep_alive=others)  # later checks must not repeat it
        assert [(e.type, e.gateway, e.cause) for e in w.presence_events()] == [
            (HubEventType.GATEWAY_OFFLINE, quiet.gateway, OfflineCause.SILENCE)
        ]
        await w.alive([quiet])
        await w.advance(20, keep_alive=gws)
        events = w.presence_events()
    assert [(e.type, e.gateway) for e in events] == [
        (HubEventType.GATEWAY_OFFLINE, quiet.gateway),
        (HubEventType.GATEWAY_ONLINE, quiet.gateway),
    ]


async def test_a_street_cut_off_is_one_area_outage_not_a_flood(
    hub_config: Any, tmp_path: Path, mosquitto: MosquittoService, topic_prefix: str
) -> None:
    street = fleet_of(6, topic_prefix, HUAMU)  # huamu: lianyang and dongming
    elsewhere = [VirtualGateway(f"{topic_prefix}-yj", YANGJING)]
    async with world(hub_config, tmp_path, mosquitto, topic_prefix, street + elsewhere) as w:
        for g in street:  # the rainstorm: power and network gone within seconds
            await w.deliver(g, g.birth(now_ms(w.clock), online=False), "state")
        await w.advance(300, keep_alive=elsewhere)
        events = w.presence_events()
        snapshot = w.hub.presence.snapshot()
    outages = [e for e in events if e.type is HubEventType.AREA_OUTAGE]
    assert len(outages) == 1
    (outage,) = outages
    assert (outage.district, outage.street, outage.community) == ("pudong", "huamu", None)
    assert sorted(outage.gateways) == sorted(g.gateway for g in street)
    assert not [e for e in events if e.type is HubEventType.GATEWAY_OFFLINE]
    assert not [e for e in events if e.type is HubEventType.SENSOR_OVERDUE]
    assert len(snapshot.areas_out) == 1


@asynccontextmanager
async def connected(
    broker: MosquittoService, prefix: str, gws: list[VirtualGateway], t: int
) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """Each gateway on a connection of its own, born, with its death as the MQTT will (as the
    edge agent does). Yields a function that publishes the wills' payloads now."""
    tree = TopicTree(prefix)
    wills: list[tuple[aiomqtt.Client, str, bytes]] = []
    async with AsyncExitStack() as stack:
        for g in gws:
            topic = tree.gateway(g.area.district, g.area.street, g.gateway, Channel.STATE)
            death = encode(g.birth(t, online=False))
            client = aiomqtt.Client(
                broker.host,
                broker.port,
                identifier=f"{g.gateway}-{t}",
                will=aiomqtt.Will(topic, death, qos=1, retain=True),
            )
            await stack.enter_async_context(client)  # a no-op exit once the broker dropped it
            await client.publish(topic, encode(g.birth(t)), qos=1, retain=True)
            wills.append((client, topic, death))

        async def die() -> None:
            for client, topic, death in wills:
                await client.publish(topic, death, qos=1, retain=True)

        yield die


@pytest.mark.parametrize(
    ("down_s", "reborn_after_s"),
    [
        (15, 5),  # a restart, as seen in the rainstorm run: gateways back within seconds
        (45, 35),  # down and back slowly: beyond hold_s both times, only the link rule helps
    ],
)
async def test_a_broker_restart_is_no_area_outage(
    tmp_path: Path, topic_prefix: str, down_s: int, reborn_after_s: int
) -> None:
    # A broker of its own: restarting the shared one would cut other tests' connections.
    broker = start_mosquitto(tmp_path / "broker")
    clock = ManualClock(start=1_800_000_000)
    street = fleet_of(4, topic_prefix, HUAMU)
    marker = VirtualGateway(f"{topic_prefix}-yj", YANGJING)
    config = make_hub_config(tmp_path / "hub", broker, topic_prefix)

    def offline() -> int:
        return len(hub.presence.snapshot().gateways_offline)

    try:
        async with (
            running_hub(config, tmp_path, clock) as hub,
            hub.events.subscribe() as events,
        ):
            async with connected(broker, topic_prefix, street, now_ms(clock)) as die:
                await eventually(
                    lambda: len(hub.presence.snapshot().gateways_online) == len(street),
                    what="the births",
                )
                await clock.advance(60)  # past the grace of the hub's first connection
                # Mosquitto sends the wills as it shuts down, often before it drops the hub:
                # make that order certain, then stop it (and it sends them again).
                await die()
                await eventually(lambda: offline() == len(street), what="the deaths")
                await asyncio.to_thread(broker.stop)
            await eventually(lambda: not hub.link.connected.is_set(), what="the hub cut off")
            for _ in range(down_s // 5):  # the hub's checks and reconnect attempts go on
                await clock.advance(5)
                await asyncio.sleep(0.05)
            await asyncio.to_thread(broker.start)
            for _ in range(60):  # until the hub's backoff lets it try again
                if hub.link.connected.is_set():
                    break
                await clock.advance(1)
                await asyncio.sleep(0.05)
            await eventually(hub.link.connected.is_set, what="the hub back")
            # The wills again (the session's queue, the retained state): all before this birth.
            async with connected(broker, topic_prefix, [marker], now_ms(clock)):
                await eventually(lambda: hub.registry.get(marker.gateway) is not None)
            assert offline() == len(street)
            await clock.advance(reborn_after_s)
            async with connected(broker, topic_prefix, street, now_ms(clock)):
                await eventually(lambda: offline() == 0, what="the rebirths")
                for _ in range(12):
                    await clock.advance(10)
                seen = []
                while not events.empty():
                    item = events.get_nowait()
                    if isinstance(item, HubEvent):
                        seen.append((item.type, item.gateway, item.detail))
    finally:
        broker.stop()
    assert seen == []
