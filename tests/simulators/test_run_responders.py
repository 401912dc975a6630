"""Simulated responders against a real hub: paged over the webhook, they tap the real link.

The hub and the responders share a manual clock, so "answers after 30 s" is exact: the test
waits for each page to arrive (real HTTP), then moves the clock.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from integration.hub.conftest import fleet, make_hub_config, running_hub
from integration.hub.test_responding import LIANYANG, SECRET, advance, notify, one_incident
from pydantic import ValidationError
from support.fleet import VirtualGateway
from support.http_receiver import closed_port
from support.services import MosquittoService
from support.waiting import eventually

from hub.incidents.model import IncidentState
from hub.notify.channels.webhook import signature
from hub.service import Hub
from simulators.run.responders import ResponderBehaviour, RoleBehaviour, SimulatedResponders
from simulators.score import ObservedAck
from streetwatch.clock import ManualClock, now_ms
from streetwatch.levels import Level

STEP_MS = 1000  # ``advance`` moves the clock in 1 s steps


@asynccontextmanager
async def red_fire(
    clock: ManualClock,
    people: SimulatedResponders,
    tmp_path: Path,
    broker: MosquittoService,
    prefix: str,
    li_role: str = "street",
) -> AsyncIterator[tuple[Hub, str]]:
    """A hub paging ``people``, and two smoke alarms in one building: one red incident.

    The roster is test_responding's: wang (grid worker), li (street office), zhao (district);
    ``li_role="community"`` puts li on the first tier with wang."""
    gw = VirtualGateway(f"{prefix}-b1", LIANYANG, sensors=2, kind="smoke", building="b1")
    port = closed_port()  # the links must name the API's real port (base_url is not derived)
    api = {"port": port, "base_url": f"http://127.0.0.1:{port}"}
    roster = notify(people.url)
    for person in roster["responders"]:
        if person["id"] == "li":
            person.update(role=li_role, community="lianyang")
    config = make_hub_config(tmp_path / "hub", broker, prefix, {"notify": roster, "api": api})
    async with running_hub(config, tmp_path, clock) as hub, fleet(broker, prefix, [gw]) as f:
        await f.send(gw, gw.birth(now_ms(clock)))
        await eventually(lambda: hub.registry.get(gw.gateway) is not None, what="birth")
        await f.send(gw, gw.event(now_ms(clock), Level.ORANGE, sensor=0))
        await f.send(gw, gw.event(now_ms(clock), Level.ORANGE, sensor=1))
        yield hub, await one_incident(hub, Level.RED)


@pytest.mark.integration
@pytest.mark.timeout(90)
async def test_first_tier_answers_after_the_delay(
    tmp_path: Path, mosquitto: MosquittoService, topic_prefix: str
) -> None:
    clock = ManualClock(start=1_800_000_000)
    behaviour = ResponderBehaviour(answer=1.0, delay_s=(30, 30))
    async with (
        SimulatedResponders(SECRET, clock=clock, seed=1, behaviour=behaviour) as people,
        red_fire(clock, people, tmp_path, mosquitto, topic_prefix) as (hub, incident),
    ):
        await eventually(lambda: len(people.pages) == 2, what="the orange and the red page")
        assert [p.recipient for p in people.pages] == ["wang", "wang"]
        paged_at = people.pages[1].t

        await advance(clock, 30)
        # Both pages are answered: the orange link now says "outdated", the red one works.
        await eventually(
            lambda: people.answered == 1 and sum(people.refused_by_hub.values()) == 1,
            within_s=10,
            what="wang's answers",
        )
        assert people.refused_by_hub == {"outdated": 1}
        (ack,) = people.acks
        assert (ack.incident_id, ack.by) == (incident, "wang")
        assert abs(ack.t - (paged_at + 30_000)) <= STEP_MS
        acked = await hub.responding.store.get(incident)
        assert acked is not None
        assert (acked.state, acked.acknowledged_by) == (IncidentState.ACKNOWLEDGED, "wang")
        assert acked.acknowledged_at == ack.t
        pages, acks = people.observed()
        assert (len(pages), acks) == (2, [ack])
        assert all(p.channel == "webhook" and p.delivered for p in pages)


@pytest.mark.integration
@pytest.mark.timeout(90)
async def test_silent_grid_worker_escalates_to_the_street_office(
    tmp_path: Path, mosquitto: MosquittoService, topic_prefix: str
) -> None:
    clock = ManualClock(start=1_800_000_000)
    behaviour = ResponderBehaviour(
        delay_s=(10, 10),
        roles={"grid_worker": RoleBehaviour(answer=0.0), "street": RoleBehaviour(answer=1.0)},
    )
    async with (
        SimulatedResponders(SECRET, clock=clock, seed=2, behaviour=behaviour) as people,
        red_fire(clock, people, tmp_path, mosquitto, topic_prefix) as (hub, incident),
    ):
        await eventually(lambda: len(people.pages) == 2, what="the first pages")
        await advance(clock, 120)  # red: unanswered for 2 min, the grid worker again
        await eventually(lambda: len(people.pages) == 3, what="the second round")
        await advance(clock, 120)  # then the street office too
        await eventually(lambda: len(people.pages) == 5, what="the street office's page")
        (li,) = [p for p in people.pages if p.recipient == "li"]
        assert people.declined == 4  # every page of the grid worker, none of them answered

        await advance(clock, 10)
        await eventually(lambda: people.answered == 1, within_s=10, what="li's answer")
        assert people.acks == [ObservedAck(incident_id=incident, t=li.t + 10_000, by="li")]
        assert not people.refused_by_hub
        acked = await hub.responding.store.get(incident)
        assert acked is not None
        assert (acked.state, acked.acknowledged_by) == (IncidentState.ACKNOWLEDGED, "li")


@pytest.mark.integration
@pytest.mark.timeout(90)
async def test_who_comes_second_is_told_and_not_counted(
    tmp_path: Path, mosquitto: MosquittoService, topic_prefix: str
) -> None:
    clock = ManualClock(start=1_800_000_000)
    behaviour = ResponderBehaviour(
        answer=1.0, delay_s=(20, 20), roles={"community": RoleBehaviour(delay_s=(10, 10))}
    )
    async with (
        SimulatedResponders(SECRET, clock=clock, seed=3, behaviour=behaviour) as people,
        red_fire(clock, people, tmp_path, mosquitto, topic_prefix, li_role="community") as (
            hub,
            incident,
        ),
    ):
        # Both on the first tier, each paged at orange and at red.
        await eventually(lambda: len(people.pages) == 4, what="the first pages")
        await advance(clock, 20)
        await eventually(
            lambda: sum(people.refused_by_hub.values()) == 3, within_s=10, what="the answers"
        )
        assert [(a.by, a.t) for a in people.acks] == [("li", people.pages[0].t + 10_000)]
        assert people.refused_by_hub == {"outdated": 2, "answered_by_other": 1}
        acked = await hub.responding.store.get(incident)
        assert acked is not None
        assert acked.acknowledged_by == "li"


def page(ack_url: str, *, attempt: int = 1) -> bytes:
    """The fields of a webhook page that the responders read (the hub sends more)."""
    return json.dumps(
        {
            "v": 1,
            "incident": {"id": "I-1", "level": "red"},
            "recipient": {"id": "wang", "name": "王网格", "role": "grid_worker"},
            "ack_url": ack_url,
            "attempt": attempt,
            "sent_at": 1_800_000_000_000,
        }
    ).encode()


def signed(body: bytes, timestamp: int, secret: str = SECRET) -> dict[str, str]:
    """The hub's headers: the signature, and the delivery id its retries of one page share."""
    sent = json.loads(body)
    return {
        "X-StreetWatch-Delivery": f"{sent['incident'].get('id')}:wang:{sent.get('attempt')}",
        "X-StreetWatch-Timestamp": str(timestamp),
        "X-StreetWatch-Signature": signature(secret, timestamp, body),
    }


async def test_unsigned_forged_stale_and_malformed_pages_are_refused() -> None:
    clock = ManualClock(start=1_800_000_000)
    always = ResponderBehaviour(answer=1.0)
    async with (
        SimulatedResponders(SECRET, clock=clock, behaviour=always) as people,
        httpx.AsyncClient() as http,
    ):
        body, now = page("http://127.0.0.1:9/ack/x"), int(clock.now())
        assert (await http.post(people.url, content=body)).status_code == 401
        forged = signed(body, now, secret="x" * 32)
        assert (await http.post(people.url, content=body, headers=forged)).status_code == 401
        stale = signed(body, now - 600)
        assert (await http.post(people.url, content=body, headers=stale)).status_code == 401
        junk = b'{"v": 1, "incident": {}}'
        assert (
            await http.post(people.url, content=junk, headers=signed(junk, now))
        ).status_code == 400
        assert people.rejected == {"signature": 2, "stale": 1, "payload": 1}
        assert people.pages == []

        elsewhere = page("https://hub.example.cn/ack/x")
        ok = await http.post(people.url, content=elsewhere, headers=signed(elsewhere, now))
        assert ok.status_code == 200
        assert (len(people.pages), people.unsafe_links, clock.sleepers) == (1, 1, 0)


async def test_leaving_cancels_pending_answers() -> None:
    clock = ManualClock(start=1_800_000_000)
    slow = ResponderBehaviour(answer=1.0, delay_s=(60, 60))
    async with (
        SimulatedResponders(SECRET, clock=clock, behaviour=slow) as people,
        httpx.AsyncClient() as http,
    ):
        url = f"http://127.0.0.1:{closed_port()}/ack/x"
        body = page(url)
        sent = await http.post(people.url, content=body, headers=signed(body, int(clock.now())))
        assert sent.status_code == 200
        again = await http.post(people.url, content=body, headers=signed(body, int(clock.now())))
        assert again.status_code == 200  # the same page once more: a retry
        later = page(url, attempt=2)  # paged again while the answer is on its way
        sent = await http.post(people.url, content=later, headers=signed(later, int(clock.now())))
        assert sent.status_code == 200
        assert (len(people.pages), people.duplicates, clock.sleepers) == (2, 1, 1)
    assert clock.sleepers == 0
    assert (people.answered, people.failed) == (0, 0)


def test_same_seed_same_people() -> None:
    behaviour = ResponderBehaviour.model_validate(
        {"answer": 0.5, "roles": {"street": {"delay_s": [100, 200]}}}  # as scenario YAML has it
    )
    pages = [
        (f"I-{i}", person, role, attempt)
        for i in range(10)
        for person, role in (("wang", "grid_worker"), ("li", "street"))
        for attempt in (1, 2, 3)
    ]
    first = {p: behaviour.decide(7, *p) for p in pages}
    assert {p: behaviour.decide(7, *p) for p in reversed(pages)} == first  # order does not matter
    assert {p: behaviour.decide(8, *p) for p in pages} != first
    answered = {p: d for p, d in first.items() if d is not None}
    assert 0 < len(answered) < len(pages)
    for (_, _, role, _), delay in answered.items():
        low, high = (100, 200) if role == "street" else (20, 90)
        assert low <= delay <= high
    with pytest.raises(ValidationError):
        ResponderBehaviour.model_validate({"delay_s": [90, 20]})
    with pytest.raises(ValidationError):
        ResponderBehaviour.model_validate({"answer": 0.5, "patience": 3})
