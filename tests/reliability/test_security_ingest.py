"""Security at the hub's door: a gateway that may publish only under its own id (the broker ACL)
still cannot speak for another gateway, nor place itself elsewhere, through what its payload says.

Admission (hub/ingest/admit.py) refuses a payload naming another gateway than its topic
(``impersonation``); the registry (hub/registry.py) refuses a birth that moves a registered
gateway (``moved``); intake (hub/ingest/intake.py) refuses data on the topic of another street
than the gateway's registration (``wrong_place``). Each refusal is counted (``rejected`` by
reason, the ``streetwatch_hub_rejected`` metric), dead-lettered and acknowledged, and nothing of
it is stored or turned into an incident. tests/integration/hub/test_hostile.py covers a data
batch naming another gateway and births that contradict their topic or name an unknown place.
"""

from __future__ import annotations

import time
from pathlib import Path

from integration.hub.conftest import HUAMU, YANGJING, fleet, make_hub_config, running_hub
from integration.hub.stored import stored_readings
from support.fleet import Fleet, VirtualGateway
from support.services import MosquittoService
from support.waiting import eventually

from hub.events import HubEvent, HubEventType
from hub.service import Hub
from hub.storage.base import QueryFilter
from streetwatch.anomalies import Hazard
from streetwatch.codec import encode
from streetwatch.levels import Level
from streetwatch.topics import Channel

LIANYANG, DONGMING = HUAMU


async def confirmed_now(f: Fleet, g: VirtualGateway, t: int) -> None:
    """Send ``g`` one good batch and wait for every confirm: what came before has been handled."""
    await f.send(g, g.telemetry(t))
    await eventually(f.all_confirmed, what=f"{g.gateway}'s messages confirmed")


async def stored(hub: Hub, measurement: str) -> list[str]:
    """The gateway of every point of ``measurement`` in the hub's store."""
    await hub.writer.flush()
    rows = await hub.backend.query(QueryFilter(since_ms=0, measurement=measurement))
    return [row.tags["gateway"] for row in rows]


async def only_own_readings(hub: Hub, base: Path, prefix: str, good: VirtualGateway) -> None:
    """The store holds the readings ``good`` sent itself, and no others of the test."""
    await hub.writer.flush()
    readings = await stored_readings(hub.config, base, prefix)
    assert sorted((s.sensor, s.t, s.depth) for s in readings) == sorted(good.expected_readings())


async def test_a_payload_naming_another_gateway_is_refused_on_every_channel(
    tmp_path: Path, mosquitto: MosquittoService, topic_prefix: str
) -> None:
    config = make_hub_config(tmp_path / "hub", mosquitto, topic_prefix)
    victim = VirtualGateway(f"{topic_prefix}-victim", LIANYANG, sensors=1)
    liar = VirtualGateway(f"{topic_prefix}-liar", LIANYANG, sensors=1)
    forger = VirtualGateway(victim.gateway, LIANYANG, sensors=1)  # builds payloads naming victim
    now = int(time.time() * 1000)
    async with running_hub(config, tmp_path) as hub, fleet(mosquitto, topic_prefix, [victim]) as f:
        await f.send(victim, victim.birth(now))
        await confirmed_now(f, victim, now)
        registered = hub.registry.get(victim.gateway)
        # The liar may publish only on its own topics (the ACL): it claims to be the victim.
        forged = {
            Channel.STATE: forger.birth(now + 1),
            Channel.DATA: forger.telemetry(now + 1),
            Channel.EVENT: forger.event(now + 1, Level.RED),
            Channel.HEALTH: forger.health(now + 1),
        }
        for channel, message in forged.items():
            await f.publish_raw(f.topic(liar, channel), encode(message))
        # The victim's own alarm, after the forged one: its incident shows whether the forged
        # red alarm (same sensor) got through before it.
        await f.send(victim, victim.event(now + 2, Level.ORANGE))
        await confirmed_now(f, victim, now + 2)

        assert hub.counters.by_reason("rejected") == {"impersonation": 4}
        letters = await hub.dead_letters.recent(10)
        assert sorted(letter.topic for letter in letters) == sorted(
            f.topic(liar, c) for c in forged
        )
        assert all(victim.gateway in letter.detail for letter in letters)
        assert hub.registry.get(liar.gateway) is None
        assert hub.registry.get(victim.gateway) == registered  # the forged birth changed nothing
        await only_own_readings(hub, tmp_path, topic_prefix, victim)
        assert await stored(hub, "anomaly_event") == [victim.gateway]  # its own alarm only
        assert await stored(hub, "gateway_health") == []

        async def incident_opened() -> bool:
            return bool(await hub.responding.store.active())

        await eventually(incident_opened, what="the incident of the victim's alarm")
        (incident,) = await hub.responding.store.active()
        assert incident.level is Level.ORANGE  # the forged red alarm raised nothing


async def test_a_gateway_cannot_place_itself_elsewhere(
    tmp_path: Path, mosquitto: MosquittoService, topic_prefix: str
) -> None:
    config = make_hub_config(tmp_path / "hub", mosquitto, topic_prefix)
    gw = VirtualGateway(f"{topic_prefix}-gw", LIANYANG, sensors=1)
    now = int(time.time() * 1000)
    async with (
        running_hub(config, tmp_path) as hub,
        fleet(mosquitto, topic_prefix, [gw]) as f,
        hub.events.subscribe() as events,
    ):
        await f.send(gw, gw.birth(now))
        await confirmed_now(f, gw, now)
        registered = hub.registry.get(gw.gateway)
        assert registered is not None
        # A birth on its own topic that claims another community of the same street.
        moved = gw.birth(now + 1).model_copy(update={"area": DONGMING, "boot": "b" * 16})
        await f.publish_raw(f.topic(gw, Channel.STATE), encode(moved), retain=True)
        # Data on its own id's topic in another street (the ACL allows any street).
        elsewhere = VirtualGateway(gw.gateway, YANGJING, sensors=1)
        batch = elsewhere.telemetry(now + 1)
        await f.publish_raw(f.topic(elsewhere, Channel.DATA), encode(batch))
        await confirmed_now(f, gw, now + 2)

        assert hub.counters.by_reason("rejected") == {"moved": 1, "wrong_place": 1}
        assert hub.registry.get(gw.gateway) == registered
        refused: list[HubEvent] = []
        while not events.empty():
            event = events.get_nowait()
            if isinstance(event, HubEvent) and event.type is HubEventType.GATEWAY_REFUSED:
                refused.append(event)
        assert [(e.gateway, e.street) for e in refused] == [(gw.gateway, "huamu")]
        await only_own_readings(hub, tmp_path, topic_prefix, gw)
        assert await stored(hub, "anomaly_event") == await stored(hub, "gateway_health") == []

        # The refusal itself is for the operator: a blue device incident on its street.
        async def operator_told() -> bool:
            active = await hub.responding.store.active()
            return [(i.hazard, i.level, i.street) for i in active] == [
                (Hazard.DEVICE, Level.BLUE, "huamu")
            ]

        await eventually(operator_told, what="a blue device incident for the operator")
