"""叫应 escalation on a manual clock: who is paged when, and that an answer stops everything.

The people: li (网格员) and wang (社区) of huamu/lianyang, zhao (街道办 huamu), chen (区 pudong).
Red defaults: ack timeout 120 s, renotify 1, fallback delay 30 s; so tier 0 at 0 s and 120 s,
the street office from 240 s, the district from 360 s.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from hub.incidents.model import Incident, IncidentState
from hub.notify.base import Delivery, Language, Message, Notification
from hub.notify.config import NotifyConfig
from hub.notify.escalation import Escalator, PageAction, PageRecord
from streetwatch.anomalies import Hazard
from streetwatch.clock import ManualClock
from streetwatch.levels import Level

T0 = 1_700_000_000.0
Page = tuple[float, str, str]  # (seconds after T0, channel, responder)


def responder(
    ident: str, role: str, street: str | None, community: str | None, contact: list[str]
) -> dict[str, Any]:
    return {
        "id": ident,
        "name": ident,
        "role": role,
        "district": "pudong",
        "street": street,
        "community": community,
        "contact": contact,
    }


CONFIG = NotifyConfig.model_validate(
    {
        "responders": [
            responder("li", "grid_worker", "huamu", "lianyang", ["wecom", "sms"]),
            responder("wang", "community", "huamu", "lianyang", ["wecom", "sms"]),
            responder("zhao", "street", "huamu", None, ["wecom", "sms", "email"]),
            responder("chen", "district", None, None, ["sms"]),
        ]
    }
)


def incident(**over: Any) -> Incident:
    data: dict[str, Any] = {
        "id": "inc-1",
        "key": "flood:huamu:b5",
        "hazard": Hazard.FLOOD,
        "district": "pudong",
        "street": "huamu",
        "community": "lianyang",
        "level": Level.RED,
        "opened_at": int(T0 * 1000),
        "updated_at": int(T0 * 1000),
    }
    return Incident.model_validate(data | over)


ACKED = incident(state=IncidentState.ACKNOWLEDGED, acknowledged_by="li")


class RecordingSender:
    """A channel that records every send; it can be told to fail, raise or hang per person."""

    def __init__(
        self, name: str, clock: ManualClock, log: list[tuple[float, str, Notification, bool]]
    ) -> None:
        self.name = name
        self.clock, self.log = clock, log
        self.fail: set[str] = set()
        self.raise_for: set[str] = set()
        self.hang_s: dict[str, float] = {}
        self.retryable = True
        self.open = False

    async def __aenter__(self) -> RecordingSender:
        self.open = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.open = False

    async def send(self, notification: Notification) -> Delivery:
        who = notification.recipient.id
        if who in self.hang_s:
            await self.clock.sleep(self.hang_s[who])
        ok = who not in self.fail and who not in self.raise_for
        self.log.append((self.clock.now() - T0, self.name, notification, ok))
        if who in self.raise_for:
            raise RuntimeError("gateway exploded")
        if not ok:
            return Delivery(False, self.name, "unreachable", retryable=self.retryable)
        return Delivery(True, self.name, "ok", status=200)


class MemoryAudit:
    def __init__(self) -> None:
        self.entries: list[PageRecord] = []
        self.open = asyncio.Event()  # clear it to make every write hang (a stuck disk)
        self.open.set()
        self.broken = False  # every write fails (a full disk)

    async def record(self, entry: PageRecord) -> None:
        await self.open.wait()
        if self.broken:
            raise OSError("disk full")
        self.entries.append(entry)

    async def audit(self, incident_id: str) -> list[PageRecord]:
        return [e for e in self.entries if e.incident_id == incident_id]

    def rounds(self) -> list[tuple[float, str, str]]:
        """The round entries: the ones about no recipient."""
        return [(e.t / 1000 - T0, e.action, e.detail) for e in self.entries if e.recipient is None]


def render(incident: Incident, *, language: Language, ack_url: str) -> Message:
    return Message(f"{incident.level} {incident.id}", "text", "markdown", ack_url)


@dataclass
class World:
    clock: ManualClock
    audit: MemoryAudit
    log: list[tuple[float, str, Notification, bool]] = field(default_factory=list)
    senders: dict[str, RecordingSender] = field(default_factory=dict)
    seen: int = 0

    def pages(self) -> list[Page]:
        """Successful and failed sends since the last call, sorted."""
        new, self.seen = self.log[self.seen :], len(self.log)
        return sorted((round(t, 3), ch, n.recipient.id) for t, ch, n, _ in new)

    async def run_for(self, seconds: float) -> list[Page]:
        await self.clock.advance(seconds)
        return self.pages()


@asynccontextmanager
async def running(
    config: NotifyConfig = CONFIG, world: World | None = None
) -> AsyncIterator[tuple[World, Escalator]]:
    w = world or World(ManualClock(T0), MemoryAudit())
    w.senders = {n: RecordingSender(n, w.clock, w.log) for n in ("wecom", "sms", "email")}
    escalator = Escalator(
        config,
        w.senders,
        clock=w.clock,
        audit=w.audit,
        render=render,
        link=lambda i, r, level: f"https://ack/{i}/{r}/{level}",
    )
    async with escalator:
        yield w, escalator


async def test_an_unanswered_red_incident_is_renotified_then_escalated_tier_by_tier() -> None:
    async with running() as (w, esc):
        await esc.incident_changed(incident(), None)
        await w.clock.settle()
        assert w.pages() == [(0, "wecom", "li"), (0, "wecom", "wang")]
        assert await w.run_for(119) == []
        assert await w.run_for(1) == [(120, "wecom", "li"), (120, "wecom", "wang")]
        assert await w.run_for(119) == []
        assert await w.run_for(1) == [
            (240, "wecom", "li"),
            (240, "wecom", "wang"),
            (240, "wecom", "zhao"),
        ]
        assert await w.run_for(120) == [
            (360, "sms", "chen"),
            (360, "wecom", "li"),
            (360, "wecom", "wang"),
            (360, "wecom", "zhao"),
        ]
        assert [p[2] for p in await w.run_for(120)] == ["chen", "li", "wang", "zhao"]  # 480 s
        li = [n for _, _, n, _ in w.log if n.recipient.id == "li"]
        assert [(n.attempt, n.tier, n.message.ack_url) for n in li] == [
            (a, 0, "https://ack/inc-1/li/red") for a in range(1, 6)
        ]
        assert {(n.recipient.id, n.tier) for _, _, n, _ in w.log} >= {("zhao", 1), ("chen", 2)}
        assert w.audit.rounds() == [
            (0, "notified", "level=red round=0 tier=0 people=2"),
            (120, "notified", "level=red round=1 tier=0 people=2"),
            (240, "escalated", "level=red round=2 tier=1 people=3"),
            (360, "escalated", "level=red round=3 tier=2 people=4"),
            (480, "notified", "level=red round=4 tier=2 people=4"),
        ]
        (pending,) = esc.pending()
        assert (pending.level, pending.tier, pending.rounds, pending.next_at) == (
            Level.RED,
            2,
            5,
            T0 + 600,
        )


@pytest.mark.parametrize(
    "state", [IncidentState.ACKNOWLEDGED, IncidentState.RESOLVED, IncidentState.CLOSED]
)
async def test_an_answer_stops_every_pending_page_at_once(state: IncidentState) -> None:
    async with running() as (w, esc):
        await esc.incident_changed(incident(), None)
        assert len(await w.run_for(250)) == 7  # tier 0 twice, then with the street office
        await esc.incident_changed(incident(state=state), incident())
        assert esc.pending() == []
        assert await w.run_for(3600) == []
        assert w.clock.sleepers == 0
        assert max(e.t for e in w.audit.entries) == int((T0 + 240) * 1000)


async def test_a_failing_channel_falls_back_without_holding_up_anyone() -> None:
    async with running() as (w, esc):
        w.senders["wecom"].hang_s["li"] = 60  # li's IM answers only after a minute, and fails
        w.senders["wecom"].fail.add("li")
        await esc.incident_changed(incident(), None)
        await w.clock.settle()
        assert w.pages() == [(0, "wecom", "wang")]
        assert await w.run_for(60) == [(60, "wecom", "li")]
        assert await w.run_for(29) == []
        assert await w.run_for(1) == [(90, "sms", "li")]
        assert await w.run_for(30) == [(120, "wecom", "wang")]  # the timer kept its time
        attempts = [
            (e.t / 1000 - T0, e.action, e.channel, e.detail)
            for e in w.audit.entries
            if e.recipient == "li"
        ]
        assert attempts == [
            (60, "delivery_failed", "wecom", "attempt=1 tier=0: unreachable"),
            (90, "notified", "sms", "attempt=1 tier=0: ok"),
        ]


async def test_a_stuck_audit_log_holds_up_no_page() -> None:
    async with running() as (w, esc):
        w.audit.open.clear()
        await esc.incident_changed(incident(), None)
        await w.clock.settle()
        assert w.pages() == [(0, "wecom", "li"), (0, "wecom", "wang")]
        w.audit.open.set()
        await w.clock.settle()
        assert [e.recipient for e in w.audit.entries] == [None, "li", "wang"]


async def test_a_broken_audit_log_stops_no_page(caplog: pytest.LogCaptureFixture) -> None:
    async with running() as (w, esc):
        w.audit.broken = True
        await esc.incident_changed(incident(), None)
        assert len(await w.run_for(240)) == 7  # 0, 120 and 240 s, as if nothing were wrong
        assert "could not write to the audit trail" in caplog.text


async def test_a_permanent_failure_falls_back_at_once_and_a_raising_channel_counts_as_failed() -> (
    None
):
    async with running() as (w, esc):
        w.senders["wecom"].fail.add("li")
        w.senders["wecom"].retryable = False
        w.senders["wecom"].raise_for.add("wang")
        await esc.incident_changed(incident(), None)
        await w.clock.settle()
        assert w.pages() == [(0, "sms", "li"), (0, "wecom", "li"), (0, "wecom", "wang")]
        assert await w.run_for(30) == [(30, "sms", "wang")]
        failed = [
            e for e in w.audit.entries if e.recipient == "wang" and e.action == "delivery_failed"
        ]
        assert [e.detail for e in failed] == ["attempt=1 tier=0: RuntimeError: gateway exploded"]


async def test_a_person_no_channel_reaches_is_recorded_as_unreached() -> None:
    async with running() as (w, esc):
        w.senders["sms"].fail.add("chen")
        await esc.incident_changed(incident(), None)
        await w.run_for(360)
        chen = [
            (e.t / 1000 - T0, e.action, e.channel, e.detail)
            for e in w.audit.entries
            if e.recipient == "chen"
        ]
        assert chen == [
            (360, "delivery_failed", "sms", "attempt=1 tier=2: unreachable"),
            (360, "delivery_failed", None, "attempt=1 tier=2: no channel reached them"),
        ]


async def test_an_answer_stops_a_fallback_but_lets_the_send_in_flight_finish() -> None:
    async with running() as (w, esc):
        w.senders["wecom"].hang_s["li"] = 60
        w.senders["wecom"].fail.add("li")
        await esc.incident_changed(incident(), None)
        await w.run_for(10)
        await esc.incident_changed(ACKED, incident())
        assert await w.run_for(3600) == [(60, "wecom", "li")]  # in flight: completes, no SMS
        li = [(e.action, e.channel) for e in w.audit.entries if e.recipient == "li"]
        assert li == [("delivery_failed", "wecom")]


@pytest.mark.parametrize("quiet", [incident(muted=True), incident(level=Level.BLUE), ACKED])
async def test_muted_blue_and_answered_incidents_page_nobody(quiet: Incident) -> None:
    async with running() as (w, esc):
        await esc.incident_changed(quiet, None)
        assert await w.run_for(3600) == []
        assert esc.pending() == []
        assert w.audit.entries == []


async def test_muting_a_paged_incident_stops_it() -> None:
    async with running() as (w, esc):
        await esc.incident_changed(incident(), None)
        assert len(await w.run_for(10)) == 2
        await esc.incident_changed(incident(muted=True), incident())
        assert await w.run_for(3600) == []
        assert esc.pending() == []


async def test_a_level_raise_pages_at_once_and_follows_the_new_policy() -> None:
    async with running() as (w, esc):
        await esc.incident_changed(incident(level=Level.ORANGE), None)
        assert len(await w.run_for(100)) == 2  # orange: tier 0 at 0, next only at 300
        await esc.incident_changed(incident(level=Level.RED), incident(level=Level.ORANGE))
        await w.clock.settle()
        assert w.pages() == [(100, "wecom", "li"), (100, "wecom", "wang")]
        assert [n.message.title for _, _, n, _ in w.log[-2:]] == ["red inc-1", "red inc-1"]
        assert len(await w.run_for(120)) == 2  # 220: tier 0 again
        assert await w.run_for(120) == [
            (340, "wecom", "li"),
            (340, "wecom", "wang"),
            (340, "wecom", "zhao"),
        ]
        assert w.audit.rounds() == [
            (0, "notified", "level=orange round=0 tier=0 people=2"),
            (100, "notified", "level=red round=0 tier=0 people=2"),
            (220, "notified", "level=red round=1 tier=0 people=2"),
            (340, "escalated", "level=red round=2 tier=1 people=3"),
        ]


async def test_an_acknowledged_incident_whose_level_rises_is_paged_at_once_at_the_new_level() -> (
    None
):
    yellow = incident(level=Level.YELLOW)
    acked = incident(level=Level.YELLOW, state=IncidentState.ACKNOWLEDGED, acknowledged_by="li")
    red = incident(level=Level.RED)  # the engine reopened it: open again, ack cleared
    async with running() as (w, esc):
        await esc.incident_changed(yellow, None)
        assert len(await w.run_for(100)) == 2  # yellow: tier 0 at 0, next only at 900
        await esc.incident_changed(acked, yellow)
        assert esc.pending() == []
        assert await w.run_for(50) == []
        await esc.incident_changed(red, acked)
        await w.clock.settle()
        assert w.pages() == [(150, "wecom", "li"), (150, "wecom", "wang")]
        assert [n.message.title for _, _, n, _ in w.log[-2:]] == ["red inc-1", "red inc-1"]
        # each link is signed for the level its message tells, so a yellow one cannot ack red
        assert [(n.recipient.id, n.message.ack_url) for _, _, n, _ in w.log] == [
            ("li", "https://ack/inc-1/li/yellow"),
            ("wang", "https://ack/inc-1/wang/yellow"),
            ("li", "https://ack/inc-1/li/red"),
            ("wang", "https://ack/inc-1/wang/red"),
        ]
        (pending,) = esc.pending()
        assert (pending.level, pending.next_at) == (Level.RED, T0 + 270)  # red's 120 s timeout
        assert len(await w.run_for(120)) == 2  # 270: tier 0 again
        assert await w.run_for(120) == [
            (390, "wecom", "li"),
            (390, "wecom", "wang"),
            (390, "wecom", "zhao"),
        ]
        assert w.audit.rounds() == [
            (0, "notified", "level=yellow round=0 tier=0 people=2"),
            (150, "notified", "level=red round=0 tier=0 people=2"),
            (270, "notified", "level=red round=1 tier=0 people=2"),
            (390, "escalated", "level=red round=2 tier=1 people=3"),
        ]


async def test_a_reopened_incident_pages_with_new_attempt_numbers() -> None:
    """Receivers dedupe on incident:recipient:attempt; a reopening must not reuse an id."""
    yellow = incident(level=Level.YELLOW)
    acked = incident(level=Level.YELLOW, state=IncidentState.ACKNOWLEDGED, acknowledged_by="li")
    orange = incident(level=Level.ORANGE)
    async with running() as (w, esc):
        await esc.incident_changed(yellow, None)
        await w.run_for(100)
        await esc.incident_changed(acked, yellow)
        await esc.incident_changed(orange, acked)
        await w.clock.settle()
        sent = [(n.recipient.id, n.attempt) for _, _, n, _ in w.log]
        assert sent == [("li", 1), ("wang", 1), ("li", 2), ("wang", 2)]


async def test_a_tier_with_nobody_is_skipped_at_once() -> None:
    async with running() as (w, esc):
        await esc.incident_changed(incident(community="dongming"), None)  # no 网格员 there
        await w.clock.settle()
        assert w.pages() == [(0, "wecom", "zhao")]
        assert await w.run_for(120) == [(120, "sms", "chen"), (120, "wecom", "zhao")]
        assert w.audit.rounds() == [
            (0, "escalated", "level=red round=2 tier=1 people=1 skipped=0"),
            (120, "escalated", "level=red round=3 tier=2 people=2"),
        ]


async def test_resume_does_not_page_an_answered_incident_again() -> None:
    world = World(ManualClock(T0), MemoryAudit())
    async with running(world=world) as (w, esc):
        await esc.incident_changed(incident(), None)
        await w.run_for(130)
    w.pages()
    async with running(world=world) as (w, esc):  # the hub restarted; li had answered
        await esc.resume([ACKED])
        assert await w.run_for(3600) == []
        assert esc.pending() == []


async def test_resume_continues_an_open_incident_where_it_was_without_double_sending() -> None:
    world = World(ManualClock(T0), MemoryAudit())
    async with running(world=world) as (w, esc):
        await esc.incident_changed(incident(), None)
        await w.run_for(250)  # rounds at 0, 120 and 240 (street office reached)
    assert w.clock.sleepers == 0
    w.pages()
    async with running(world=world) as (w, esc):
        await esc.resume([incident()])
        assert await w.run_for(109) == []  # 359 s: the 240 s round is not repeated
        assert [p[2] for p in await w.run_for(1)] == ["chen", "li", "wang", "zhao"]  # 360 s
        (pending,) = esc.pending()
        assert (pending.tier, pending.rounds) == (2, 4)
        li = [n.attempt for _, _, n, _ in w.log if n.recipient.id == "li"]
        assert li[-1] == 4


async def test_resume_pages_at_once_what_was_never_paged_or_was_raised_meanwhile() -> None:
    world = World(ManualClock(T0), MemoryAudit())
    async with running(world=world) as (w, esc):
        await esc.incident_changed(incident(id="inc-2", level=Level.ORANGE), None)
        await w.run_for(10)
    w.pages()
    async with running(world=world) as (w, esc):
        await esc.resume([incident(), incident(id="inc-2", level=Level.RED)])
        await w.clock.settle()
        assert w.pages() == [
            (10, "wecom", "li"),
            (10, "wecom", "li"),
            (10, "wecom", "wang"),
            (10, "wecom", "wang"),
        ]
        assert {(p.incident_id, p.next_at) for p in esc.pending()} == {
            ("inc-1", T0 + 130),
            ("inc-2", T0 + 130),
        }


async def test_leaving_the_escalator_cancels_its_timers_and_closes_its_channels() -> None:
    async with running() as (w, esc):
        assert all(s.open for s in w.senders.values())
        await esc.incident_changed(incident(), None)
        await w.clock.settle()
        assert w.clock.sleepers == 1
    assert w.clock.sleepers == 0
    assert not any(s.open for s in w.senders.values())
    assert await w.run_for(3600) == [(0, "wecom", "li"), (0, "wecom", "wang")]


def test_the_escalator_writes_only_actions_of_the_shared_audit_trail() -> None:
    audit = pytest.importorskip("hub.incidents.audit")  # written beside this slice
    assert {a.value for a in PageAction} <= {a.value for a in audit.AuditAction}
