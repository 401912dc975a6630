"""The demo's feed: hub incident changes and audit rows become the events a person reads."""

from __future__ import annotations

from datetime import UTC, datetime

from demo.feed import Event, Feed, Kind
from demo.steps import TimedStep
from demo.words import Names
from hub.incidents.audit import AuditAction, AuditEntry
from hub.incidents.model import Incident, IncidentState
from streetwatch.anomalies import Hazard
from streetwatch.levels import Level

T0 = int(datetime(2026, 7, 15, 9, 0, tzinfo=UTC).timestamp() * 1000)
NAMES = Names(
    places={"pd": "浦东区 Pudong", "huamu": "花木街道 Huamu", "lianyang": "联洋社区 Lianyang",
            "yangjing": "洋泾街道 Yangjing"},
    people={"grid-lianyang": "联洋社区网格员", "street-huamu": "花木街道值班员"},
    streets=[("pd", "huamu"), ("pd", "yangjing")],
)  # fmt: skip


def fire(t_s: float, level: Level, **changes: object) -> Incident:
    data: dict[str, object] = {
        "id": "I-20260715-0001", "key": "pd/huamu/fire/lianyang/b2", "hazard": Hazard.FIRE,
        "district": "pd", "street": "huamu", "community": "lianyang", "building": "b2",
        "level": level, "opened_at": T0, "updated_at": T0 + int(t_s * 1000),
    }  # fmt: skip
    return Incident.model_validate(data | changes)


class Trail:
    """An audit trail in memory: what ``IncidentStore.audit`` answers."""

    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def add(self, t_s: float, action: AuditAction, detail: str, **fields: str) -> None:
        entry = AuditEntry(T0 + int(t_s * 1000), "I-20260715-0001", action, detail=detail, **fields)
        self.entries.append(entry)

    async def audit(self, incident_id: str | None) -> list[AuditEntry]:
        return [e for e in self.entries if e.incident_id == incident_id]


def kinds(events: list[Event]) -> list[tuple[Kind, Level]]:
    return [(e.kind, e.level) for e in events]


def test_an_incident_opening_rising_and_resolving_and_its_street() -> None:
    feed = Feed(NAMES, [])
    feed.incident_changed(fire(0, Level.ORANGE))
    feed.incident_changed(fire(8, Level.RED))
    assert feed.street_levels == {"huamu": Level.RED, "yangjing": Level.NONE}
    resolved = fire(900, Level.YELLOW, state=IncidentState.RESOLVED, resolved_by="auto")
    feed.incident_changed(resolved)
    events = feed.take()
    assert kinds(events) == [
        (Kind.OPENED, Level.ORANGE), (Kind.STREET, Level.ORANGE),
        (Kind.RAISED, Level.RED), (Kind.STREET, Level.RED),
        (Kind.LOWERED, Level.YELLOW), (Kind.RESOLVED, Level.YELLOW), (Kind.STREET, Level.NONE),
    ]  # fmt: skip
    assert events[0].text == "火灾 fire at 联洋社区 Lianyang b2, orange"
    assert events[3].text == "花木街道 Huamu: orange → red"
    assert feed.street_levels["huamu"] is Level.NONE
    assert feed.take() == []


async def test_pages_escalation_and_the_answer_with_its_times() -> None:
    feed, trail = Feed(NAMES, []), Trail()
    feed.incident_changed(fire(0, Level.RED))
    trail.add(1, AuditAction.NOTIFIED, "level=red round=0 tier=0 people=1")
    trail.add(2, AuditAction.NOTIFIED, "attempt=1 tier=0", channel="webhook",
              recipient="grid-lianyang")  # fmt: skip
    trail.add(240, AuditAction.ESCALATED, "level=red round=2 tier=1 people=2")
    trail.add(241, AuditAction.NOTIFIED, "attempt=1 tier=1", channel="webhook",
              recipient="street-huamu")  # fmt: skip
    trail.add(242, AuditAction.DELIVERY_FAILED, "attempt=1 tier=1: HTTP 503", channel="sms",
              recipient="street-huamu")  # fmt: skip
    await feed.poll(trail)
    acked = fire(256, Level.RED, state=IncidentState.ACKNOWLEDGED, acknowledged_by="street-huamu",
                 acknowledged_at=T0 + 256_000)  # fmt: skip
    feed.incident_changed(acked)
    events = feed.take()
    assert [e.kind for e in events] == [
        Kind.OPENED,
        Kind.STREET,
        Kind.PAGE,
        Kind.ESCALATED,
        Kind.PAGE,
        Kind.FAILED,
        Kind.ACK,
    ]
    page, escalated, failed, ack = events[2], events[3], events[5], events[6]
    what = "火灾 fire at 联洋社区 Lianyang b2"
    assert page.text == f"联洋社区网格员 (grid-lianyang) via webhook: {what} (attempt 1)"
    assert page.level is Level.RED
    assert escalated.text == f"no answer: {what} goes up to 街道 street office"
    assert failed.text == "花木街道值班员 (street-huamu) via sms failed: HTTP 503"
    times = "15 s after their page, 4 min 16 s after the red warning"
    assert ack.text == f"花木街道值班员 (street-huamu) answered: {what} ({times})"
    await feed.poll(trail)  # nothing new
    assert feed.take() == []


async def test_a_page_tells_the_level_of_its_round_not_the_incidents_current_one() -> None:
    feed, trail = Feed(NAMES, []), Trail()
    feed.incident_changed(fire(0, Level.YELLOW))
    trail.add(1, AuditAction.NOTIFIED, "level=yellow round=0 tier=0 people=1")
    trail.add(2, AuditAction.NOTIFIED, "attempt=1 tier=0", channel="webhook",
              recipient="grid-lianyang")  # fmt: skip
    feed.incident_changed(fire(2, Level.RED))  # risen before the audit was read
    await feed.poll(trail)
    (page,) = [e for e in feed.take() if e.kind is Kind.PAGE]
    assert page.level is Level.YELLOW


def test_timeline_steps_come_once_as_their_time_comes() -> None:
    steps = [TimedStep(T0, T0 + 600_000, "rain"), TimedStep(T0 + 300_000, None, "fire")]
    feed = Feed(NAMES, steps)
    feed.tick(T0 - 1)
    assert feed.take() == []
    assert feed.current_step(T0 - 1) is None
    feed.tick(T0 + 400_000)
    feed.tick(T0 + 400_000)
    assert [(e.kind, e.text) for e in feed.take()] == [(Kind.STEP, "rain"), (Kind.STEP, "fire")]
    assert feed.current_step(T0 + 400_000) == steps[1]
    assert feed.current_step(T0 + 700_000) == steps[1]  # rain is over, the fire goes on


def test_a_district_incident_colours_every_street_it_spans() -> None:
    feed = Feed(NAMES, [])
    flood = fire(0, Level.ORANGE, hazard=Hazard.FLOOD, street=None, community=None,
                 building=None, streets=("huamu", "yangjing"), key="pd/flood")  # fmt: skip
    feed.incident_changed(flood)
    assert feed.street_levels == {"huamu": Level.ORANGE, "yangjing": Level.ORANGE}
    assert feed.take()[0].text == "内涝 flood at 浦东区 Pudong, orange"
