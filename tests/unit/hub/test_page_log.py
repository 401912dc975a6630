"""The escalator's pages in the time series (``page``): the real escalator, the real incident
store's trail, on a manual clock; every trail entry is one point, none replacing another."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from support.waiting import eventually

from hub.incidents.model import Incident
from hub.incidents.store import IncidentStore
from hub.notify.base import Delivery, Language, Message, Notification
from hub.notify.config import NotifyConfig
from hub.notify.escalation import Escalator, PageRecord
from hub.page_log import PageLog
from hub.responders import StoreAudit
from hub.storage.base import Point
from streetwatch.anomalies import Hazard
from streetwatch.clock import ManualClock, now_ms
from streetwatch.levels import Level

CONFIG = NotifyConfig.model_validate(
    {
        "responders": [
            {"id": "li", "name": "李", "role": "grid_worker", "district": "pudong",
             "street": "huamu", "community": "lianyang", "contact": ["wecom"]},
            {"id": "wang", "name": "王", "role": "community", "district": "pudong",
             "street": "huamu", "community": "lianyang", "contact": ["sms", "wecom"]},
        ]
    }
)  # fmt: skip
ROLES = {r.id: r.role.value for r in CONFIG.responders}


class Channel:
    """A channel that delivers, except to the people told to fail."""

    def __init__(self, name: str, fail: frozenset[str] = frozenset()) -> None:
        self.name, self.fail = name, fail

    async def __aenter__(self) -> Channel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass

    async def send(self, notification: Notification) -> Delivery:
        ok = notification.recipient.id not in self.fail
        return Delivery(ok, self.name, "ok" if ok else "unreachable", retryable=False)


def render(incident: Incident, *, language: Language, ack_url: str) -> Message:
    return Message(incident.id, "text", "markdown", ack_url)


@dataclass
class Written:
    points: list[Point] = field(default_factory=list)
    broken: bool = False  # every write fails (the writer gone)

    async def __call__(self, points: Sequence[Point]) -> None:
        if self.broken:
            raise RuntimeError("the store writer is not running")
        self.points.extend(points)


@asynccontextmanager
async def paging(written: Written) -> AsyncIterator[tuple[IncidentStore, Escalator, ManualClock]]:
    clock = ManualClock()
    async with IncidentStore(None) as store:
        audit = PageLog(StoreAudit(store), incident=store.get, roles=ROLES, write=written)
        senders = {"wecom": Channel("wecom"), "sms": Channel("sms", frozenset({"wang"}))}
        escalator = Escalator(
            CONFIG, senders, clock=clock, audit=audit, render=render, link=lambda *a: "https://a"
        )
        async with escalator:
            yield store, escalator, clock


async def red_flood(store: IncidentStore, clock: ManualClock) -> Incident:
    incident = Incident(
        id=await store.next_id(now_ms(clock)),
        key="k",
        hazard=Hazard.FLOOD,
        district="pudong",
        street="huamu",
        community="lianyang",
        level=Level.RED,
        opened_at=now_ms(clock),
        updated_at=now_ms(clock),
    )
    await store.save(incident)
    return incident


async def four_entries(store: IncidentStore, incident: Incident) -> None:
    """The round, li by WeCom, wang's SMS failing and WeCom reaching him (the store writes in
    its own thread: wait for it)."""

    async def written() -> bool:
        return len(await store.audit(incident.id)) >= 4

    await eventually(written, within_s=10, what="four audit entries")


async def test_each_trail_entry_of_a_round_is_one_page_point() -> None:
    written = Written()
    async with paging(written) as (store, escalator, clock):
        incident = await red_flood(store, clock)
        await escalator.incident_changed(incident, None)
        await four_entries(store, incident)
        await eventually(lambda: len(written.points) >= 4, within_s=10, what="four points")
        trail = await store.audit(incident.id)
        # The round; li by WeCom; wang's SMS failing, then WeCom reaching him.
        assert sorted((e.action, e.channel or "", e.recipient or "") for e in trail) == [
            ("delivery_failed", "sms", "wang"),
            ("notified", "", ""),
            ("notified", "wecom", "li"),
            ("notified", "wecom", "wang"),
        ]
        assert len(written.points) == len(trail) == 4
        pages = {(dict(p.tags).get("channel"), p.fields["recipient"]): p for p in written.points}
        li, wang = pages["wecom", "li"], pages["wecom", "wang"]
        assert dict(li.tags) == {
            "action": "notified",
            "channel": "wecom",
            "district": "pudong",
            "hazard": "flood",
            "level": "red",
            "street": "huamu",
        }
        assert li.fields == {
            "incident": incident.id,
            "recipient": "li",
            "count": 1,
            "tier": "grid_worker",
        }
        assert wang.fields["tier"] == "community"
        assert "tier" not in pages[None, ""].fields  # the round: nobody in particular
        assert pages["sms", "wang"].tags == (
            ("action", "delivery_failed"),
            ("channel", "sms"),
            *li.tags[2:],
        )
        # li and wang were reached by WeCom at the same instant: one is moved on a millisecond,
        # so that neither point replaces the other.
        assert li.tags == wang.tags
        assert sorted((li.time_ms, wang.time_ms)) == [now_ms(clock), now_ms(clock) + 1]
        keys = {(p.tags, p.time_ms) for p in written.points}
        assert len(keys) == 4


async def test_a_failing_write_never_holds_up_the_trail_or_the_pages() -> None:
    written = Written(broken=True)
    async with paging(written) as (store, escalator, clock):
        incident = await red_flood(store, clock)
        await escalator.incident_changed(incident, None)
        await four_entries(store, incident)
        assert written.points == []


async def test_an_entry_of_an_unknown_incident_is_only_in_the_trail() -> None:
    written = Written()
    async with IncidentStore(None) as store:
        audit = PageLog(StoreAudit(store), incident=store.get, roles=ROLES, write=written)
        await audit.record(PageRecord(1000, "I-none", "notified", detail="level=red round=0"))
        assert [e.action for e in await audit.audit("I-none")] == ["notified"]
    assert written.points == []
