"""The engine against a real SQLite store and a ManualClock: life cycle, races, rules, restart."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hub.events import HubEventType
from hub.incidents.audit import AuditAction, AuditEntry
from hub.incidents.config import IncidentsConfig, MaintenanceWindow
from hub.incidents.engine import IncidentClosedError, IncidentEngine, UnknownIncidentError
from hub.incidents.grouping import edge_signal
from hub.incidents.model import Incident, IncidentScope, IncidentState, ReportKind
from hub.incidents.store import IncidentStore
from streetwatch.anomalies import AnomalyType, Hazard
from streetwatch.clock import ManualClock
from streetwatch.kinds import KindName
from streetwatch.levels import Level
from unit.hub.incidents.factory import CLEARED, T0, S, edge, hub, water
from unit.hub.incidents.factory import flood as flood_incident

A, St = AuditAction, IncidentState
CONFIG = IncidentsConfig(resolve_after_s=60, close_after_s=600, check_interval_s=1)


@dataclass
class Rig:
    engine: IncidentEngine
    store: IncidentStore
    clock: ManualClock
    changes: list[tuple[Incident, Incident | None]] = field(default_factory=list)
    unsaved: list[str] = field(default_factory=list)  # told before the save was durable

    async def actions(self, incident_id: str | None) -> list[AuditAction]:
        return [e.action for e in await self.store.audit(incident_id)]

    async def advance(self, seconds: int) -> None:
        """Move the clock a second (the check interval) at a time, waiting after each step
        until the timer task sleeps again: its sweep's SQLite work runs in a thread, which
        ``ManualClock.settle`` alone does not wait for."""
        for _ in range(seconds):
            await self.clock.advance(1)
            for _ in range(5000):
                if self.clock.sleepers:
                    break
                await asyncio.sleep(0.001)
            else:
                raise AssertionError("the engine's timer task did not go back to sleep")


@asynccontextmanager
async def rig(
    config: IncidentsConfig = CONFIG, path: Path | None = None, clock: ManualClock | None = None
) -> AsyncIterator[Rig]:
    clock = clock or ManualClock()
    async with IncidentStore(path) as store:
        changes: list[tuple[Incident, Incident | None]] = []
        unsaved: list[str] = []

        async def on_change(new: Incident, previous: Incident | None) -> None:
            if await store.get(new.id) != new:
                unsaved.append(new.id)
            changes.append((new, previous))

        engine = IncidentEngine(config, store, clock=clock, on_change=on_change)
        async with engine:
            yield Rig(engine, store, clock, changes, unsaved)
        assert clock.sleepers == 0  # the timer task is gone


async def test_a_first_alarm_opens_an_incident_saved_before_it_is_told() -> None:
    async with rig() as r:
        opened = await r.engine.on_edge_event(edge())
        assert opened is not None
        assert re.fullmatch(r"I-20231115-\d{4}", opened.id)
        assert (opened.hazard, opened.level, opened.state) == (Hazard.FIRE, Level.ORANGE, St.OPEN)
        assert (opened.street, opened.community, opened.building) == ("huamu", "lianyang", "b1")
        assert opened.key == "pudong/huamu/fire/lianyang/b1"
        assert r.changes == [(opened, None)]
        assert r.unsaved == []
        assert await r.actions(opened.id) == [A.OPENED]


async def test_a_second_detector_joins_and_the_rule_raises_it_to_red() -> None:
    async with rig() as r:
        first = await r.engine.on_edge_event(edge("s1"))
        second = await r.engine.on_edge_event(edge("s2", gateway="gw-b", t=T0 + S))
        assert first is not None
        assert second is not None
        assert second.id == first.id
        assert (second.level, second.rule) == (Level.RED, "smoke_in_building")
        assert [s.sensor for s in second.signals] == ["s1", "s2"]
        assert r.changes[-1] == (second, first)
        assert await r.actions(first.id) == [A.OPENED, A.UPDATED, A.LEVEL_CHANGED]


async def test_the_same_event_twice_changes_nothing() -> None:
    async with rig() as r:
        first = await r.engine.on_edge_event(edge())
        again = await r.engine.on_edge_event(edge())
        assert again == first
        assert len(r.changes) == 1


async def test_fifty_concurrent_duplicate_and_overlapping_events_open_one_incident() -> None:
    async with rig() as r:
        events = [edge("s1") for _ in range(25)] + [
            edge(f"s{n % 5}", gateway=f"gw-{n % 2}", t=T0 + n) for n in range(25)
        ]
        results = await asyncio.gather(*(r.engine.on_edge_event(e) for e in events))
        ids = {i.id for i in results if i is not None}
        assert len(ids) == 1
        (active,) = await r.store.active()
        assert {(s.gateway, s.sensor) for s in active.signals} == {
            ("gw-a", "s1"),
            *((f"gw-{n % 2}", f"s{n % 5}") for n in range(25)),
        }
        assert (await r.actions(active.id)).count(A.OPENED) == 1
        assert len(await r.store.recent()) == 1


async def test_a_clear_stays_inactive_then_auto_resolves_then_closes() -> None:
    async with rig() as r:
        opened = await r.engine.on_edge_event(edge())
        await r.advance(10)
        cleared = await r.engine.on_edge_event(edge(state=CLEARED, t=T0 + 10 * S))
        assert opened is not None
        assert cleared is not None
        assert cleared.id == opened.id
        assert [s.active for s in cleared.signals] == [False]
        assert cleared.level is Level.ORANGE  # kept until it resolves
        assert cleared.all_clear_at == T0 + 10 * S
        await r.advance(59)
        assert (await r.store.get(cleared.id)).state is St.OPEN  # type: ignore[union-attr]
        await r.advance(1)
        resolved = await r.store.get(cleared.id)
        assert resolved is not None
        assert (resolved.state, resolved.resolved_by) == (St.RESOLVED, "auto")
        await r.advance(600)
        closed = await r.store.get(cleared.id)
        assert closed is not None
        assert closed.state is St.CLOSED
        assert await r.actions(cleared.id) == [
            A.OPENED, A.UPDATED, A.RESOLVED, A.CLOSED
        ]  # fmt: skip
        new = await r.engine.on_edge_event(edge(t=T0 + 700 * S, id="later"))
        assert new is not None
        assert new.id != cleared.id
        assert new.state is St.OPEN


async def test_a_raise_before_the_timeout_cancels_the_auto_resolve() -> None:
    async with rig() as r:
        await r.engine.on_edge_event(edge())
        await r.engine.on_edge_event(edge(state=CLEARED, t=T0 + 1))
        await r.advance(30)
        again = await r.engine.on_edge_event(edge(t=T0 + 30 * S))
        assert again is not None
        assert again.all_clear_at is None
        await r.advance(120)
        assert (await r.store.get(again.id)).state is St.OPEN  # type: ignore[union-attr]


async def test_a_retrigger_reopens_a_resolved_incident() -> None:
    async with rig() as r:
        opened = await r.engine.on_edge_event(edge())
        assert opened is not None
        await r.engine.acknowledge(opened.id, "zhang")
        resolved = await r.engine.resolve(opened.id, "li")
        assert (resolved.state, resolved.resolved_by) == (St.RESOLVED, "li")
        reopened = await r.engine.on_edge_event(edge("s2", t=T0 + S))
        assert reopened is not None
        assert reopened.id == opened.id
        assert reopened.state is St.OPEN
        assert (reopened.acknowledged_by, reopened.resolved_by, reopened.resolved_at) == (
            None, None, None,
        )  # fmt: skip
        assert A.REOPENED in await r.actions(opened.id)


async def test_a_clear_or_a_duplicate_never_reopens() -> None:
    async with rig() as r:
        opened = await r.engine.on_edge_event(edge())
        assert opened is not None
        await r.engine.resolve(opened.id, "li")
        again = await r.engine.on_edge_event(edge())  # the same raise, delivered again
        cleared = await r.engine.on_edge_event(edge(state=CLEARED, t=T0 + S))
        assert again is not None
        assert cleared is not None
        assert (again.state, cleared.state) == (St.RESOLVED, St.RESOLVED)
        assert A.REOPENED not in await r.actions(opened.id)


async def test_an_older_event_than_the_one_kept_is_ignored() -> None:
    async with rig() as r:
        await r.engine.on_edge_event(edge(t=T0))
        cleared = await r.engine.on_edge_event(edge(state=CLEARED, t=T0 + 10 * S))
        replayed = await r.engine.on_edge_event(edge(t=T0 + 5 * S, id="replayed"))
        assert replayed == cleared


async def test_a_clear_of_nothing_opens_nothing() -> None:
    async with rig() as r:
        assert await r.engine.on_edge_event(edge(state=CLEARED)) is None
        assert await r.engine.on_hub_event(hub(HubEventType.GATEWAY_ONLINE, gateway="g")) is None
        assert await r.store.recent() == []


async def test_acknowledge_is_idempotent() -> None:
    async with rig() as r:
        opened = await r.engine.on_edge_event(edge())
        assert opened is not None
        first = await r.engine.acknowledge(opened.id, "zhang")
        await r.advance(5)
        second = await r.engine.acknowledge(opened.id, "wang")
        assert second == first
        assert (first.state, first.acknowledged_by, first.acknowledged_at) == (
            St.ACKNOWLEDGED, "zhang", T0,
        )  # fmt: skip
        assert len(r.changes) == 2
        assert await r.actions(opened.id) == [A.OPENED, A.ACKNOWLEDGED]


@pytest.mark.parametrize("ack_first", [True, False])
async def test_a_resolve_racing_an_acknowledgement_never_reopens(ack_first: bool) -> None:
    async with rig() as r:
        opened = await r.engine.on_edge_event(edge())
        assert opened is not None
        ack = r.engine.acknowledge(opened.id, "zhang")
        resolve = r.engine.resolve(opened.id, "li")
        await asyncio.gather(*((ack, resolve) if ack_first else (resolve, ack)))
        final = await r.store.get(opened.id)
        assert final is not None
        assert final.state is St.RESOLVED
        assert final.acknowledged_by == ("zhang" if ack_first else None)
        expected = [A.ACKNOWLEDGED, A.RESOLVED] if ack_first else [A.RESOLVED]
        assert await r.actions(opened.id) == [A.OPENED, *expected]


async def test_tests_and_self_tests_never_open_and_are_recorded_as_ignored() -> None:
    async with rig() as r:
        assert await r.engine.on_edge_event(edge(test=True)) is None
        assert await r.engine.on_edge_event(edge(type=AnomalyType.SELF_TEST)) is None
        assert await r.store.recent() == []
        assert r.changes == []
        assert await r.actions(None) == [A.IGNORED, A.IGNORED]
        opened = await r.engine.on_edge_event(edge("s2"))
        assert opened is not None
        assert await r.engine.on_edge_event(edge(type=AnomalyType.TEST, test=True)) is None
        assert await r.actions(opened.id) == [A.OPENED, A.IGNORED]
        assert await r.store.get(opened.id) == opened


async def test_events_inside_a_maintenance_window_are_muted() -> None:
    window = MaintenanceWindow(scope="gateway", ids=["gw-a"], until=T0 + 60 * S, reason="swap")
    async with rig(CONFIG.model_copy(update={"maintenance": [window]})) as r:
        muted = await r.engine.on_edge_event(edge("s1"))
        assert muted is not None
        assert muted.muted
        assert muted.signals[0].muted
        assert [(e.action, e.detail) for e in await r.store.audit(muted.id)][-1] == (
            A.MUTED, "swap",
        )  # fmt: skip
        real = await r.engine.on_edge_event(edge("s2", gateway="gw-b", t=T0 + S))
        assert real is not None
        assert not real.muted
        assert real.level is Level.ORANGE  # the muted detector does not make it two
        await r.advance(60)
        after = await r.engine.on_edge_event(edge("s3", t=T0 + 60 * S))
        assert after is not None
        assert not after.signals[-1].muted


async def test_a_maintenance_window_added_while_running() -> None:
    async with rig() as r:
        window = MaintenanceWindow(
            scope="community", ids=["lianyang"], until=T0 + 60 * S, reason="drill"
        )
        r.engine.add_maintenance(window)
        muted = await r.engine.on_hub_event(hub(HubEventType.GATEWAY_OFFLINE, gateway="gw-a"))
        assert muted is not None
        assert muted.muted


async def test_gas_next_to_smoke_raises_both_incidents() -> None:
    async with rig() as r:
        fire = await r.engine.on_edge_event(edge("s1"))
        gas = await r.engine.on_edge_event(edge("g1", KindName.GAS, Level.YELLOW, t=T0 + S))
        assert fire is not None
        assert gas is not None
        assert (gas.hazard, gas.level, gas.rule) == (Hazard.GAS, Level.RED, "smoke_and_gas")
        raised = await r.store.get(fire.id)
        assert raised is not None
        assert (raised.level, raised.rule) == (Level.RED, "smoke_and_gas")
        assert (raised, fire) in r.changes


async def test_a_street_cut_off_during_a_flood_is_red_until_the_flood_is_over() -> None:
    async with rig() as r:
        outage = await r.engine.on_hub_event(
            hub(HubEventType.AREA_OUTAGE, community=None, level=Level.ORANGE)
        )
        assert outage is not None
        assert outage.level is Level.ORANGE
        flood = await r.engine.on_edge_event(water("w1", Level.ORANGE))
        assert flood is not None
        cut_off = await r.store.get(outage.id)
        assert cut_off is not None
        assert (cut_off.level, cut_off.rule) == (Level.RED, "cut_off_during_flood")
        await r.engine.resolve(flood.id, "li")
        after = await r.store.get(outage.id)
        assert after is not None
        assert (after.level, after.rule) == (Level.ORANGE, None)
        restored = await r.engine.on_hub_event(
            hub(HubEventType.AREA_RESTORED, community=None, level=Level.ORANGE, t=T0 + S)
        )
        assert restored is not None
        assert restored.id == outage.id
        assert not restored.signals[0].active


async def test_floods_in_two_streets_and_two_districts_spread() -> None:
    async with rig() as r:
        a = await r.engine.on_edge_event(water("w1", Level.ORANGE, street="huamu"))
        b = await r.engine.on_edge_event(water("w2", Level.RED, street="lujiazui"))
        assert a is not None
        assert b is not None
        (district,) = [i for i in await r.store.active() if i.scope is IncidentScope.DISTRICT]
        assert (district.key, district.street, district.streets) == (
            "pudong/*/flood/*/*", None, ("huamu", "lujiazui"),
        )  # fmt: skip
        assert (district.level, district.rule) == (Level.RED, "spread")
        c = edge("w3", KindName.WATER_LEVEL, Level.YELLOW, type=AnomalyType.THRESHOLD)
        xuanwu = type(c)("xuanwu", "xinjiekou", "c1", c.message)
        await r.engine.on_edge_event(xuanwu)
        (city,) = [i for i in await r.store.active() if i.scope is IncidentScope.CITY]
        assert city.districts == ("pudong", "xuanwu")
        assert city.streets == ("huamu", "lujiazui", "xinjiekou")
        for street in (a, b):
            await r.engine.resolve(street.id, "li")
        quiet = await r.store.get(district.id)
        assert quiet is not None
        assert not any(s.active for s in quiet.signals)
        await r.advance(61)
        resolved = await r.store.get(district.id)
        assert resolved is not None
        assert (resolved.state, resolved.resolved_by) == (St.RESOLVED, "auto")


async def test_field_reports_and_errors() -> None:
    async with rig() as r:
        opened = await r.engine.on_edge_event(edge())
        assert opened is not None
        reported = await r.engine.report(opened.id, "zhang", ReportKind.ON_SITE, "到场")
        assert [(f.by, f.kind, f.note) for f in reported.reports] == [
            ("zhang", ReportKind.ON_SITE, "到场")
        ]
        assert (await r.store.audit(opened.id))[-1].detail == "on_site: 到场"
        with pytest.raises(UnknownIncidentError):
            await r.engine.acknowledge("I-nope", "zhang")
        await r.engine.resolve(opened.id, "li")
        await r.advance(601)
        with pytest.raises(IncidentClosedError):
            await r.engine.report(opened.id, "zhang", ReportKind.FALSE_ALARM)
        assert (await r.engine.acknowledge(opened.id, "zhang")).state is St.CLOSED


async def test_a_failing_listener_does_not_lose_the_incident() -> None:
    async def broken(new: Incident, previous: Incident | None) -> None:
        raise RuntimeError("listener down")

    async with (
        IncidentStore(None) as store,
        IncidentEngine(CONFIG, store, clock=ManualClock(), on_change=broken) as engine,
    ):
        opened = await engine.on_edge_event(edge())
        assert opened is not None
        assert await store.get(opened.id) == opened


async def test_the_engine_must_be_running() -> None:
    async with IncidentStore(None) as store:
        engine = IncidentEngine(CONFIG, store, clock=ManualClock(), on_change=_ignore)
        with pytest.raises(RuntimeError, match="not running"):
            await engine.on_edge_event(edge())


async def _ignore(new: Incident, previous: Incident | None) -> None:
    return None


async def test_a_restart_keeps_incidents_states_ids_and_timers(tmp_path: Path) -> None:
    path, clock = tmp_path / "incidents.db", ManualClock()
    async with rig(path=path, clock=clock) as r:
        fire = await r.engine.on_edge_event(edge("s1"))
        flood = await r.engine.on_edge_event(water("w1", Level.ORANGE))
        gas = await r.engine.on_edge_event(edge("g1", KindName.GAS, building="b9"))
        assert fire is not None
        assert flood is not None
        assert gas is not None
        await r.engine.acknowledge(fire.id, "zhang")
        await r.engine.resolve(flood.id, "li")
        await r.engine.on_edge_event(
            edge("g1", KindName.GAS, building="b9", state=CLEARED, t=T0 + S)
        )
    async with rig(path=path, clock=clock) as r:
        kept = await r.store.get(fire.id)
        assert kept is not None
        assert (kept.state, kept.acknowledged_by) == (St.ACKNOWLEDGED, "zhang")
        joined = await r.engine.on_edge_event(edge("s2", t=T0 + 2 * S))
        assert joined is not None
        # Acknowledged at orange before the restart; the second detector makes it red: the
        # level answered is read back from the trail, and red is paged.
        assert (joined.id, joined.state, joined.level) == (fire.id, St.OPEN, Level.RED)
        assert (await r.store.audit(fire.id))[-1].detail == (
            "level rose orange→red after acknowledgement by zhang"
        )
        again = await r.engine.on_edge_event(water("w2", Level.ORANGE))
        assert again is not None
        assert (again.id, again.state) == (flood.id, St.OPEN)
        new = await r.engine.on_edge_event(edge("m1", KindName.MANHOLE_COVER))
        assert new is not None
        assert new.id > gas.id  # numbering continues, ids sort by opening
        await r.advance(60)
        gone = await r.store.get(gas.id)
        assert gone is not None
        assert gone.state is St.RESOLVED  # its all-clear timer survived the restart


async def test_a_falling_level_does_not_reopen_a_rising_one_does() -> None:
    async with rig() as r:
        flood = await r.engine.on_edge_event(water("w1", Level.ORANGE))
        assert flood is not None
        await r.engine.resolve(flood.id, "li")
        receding = await r.engine.on_edge_event(water("w1", Level.YELLOW, t=T0 + S))
        assert receding is not None
        assert (receding.state, receding.level) == (St.RESOLVED, Level.YELLOW)
        rising = await r.engine.on_edge_event(water("w1", Level.RED, t=T0 + 2 * S))
        assert rising is not None
        assert (rising.state, rising.level) == (St.OPEN, Level.RED)


async def test_a_resolved_district_incident_needs_two_streets_again() -> None:
    async with rig() as r:
        a = await r.engine.on_edge_event(water("w1", Level.ORANGE, street="huamu"))
        b = await r.engine.on_edge_event(water("w2", Level.ORANGE, street="lujiazui"))
        assert a is not None
        assert b is not None
        (district,) = [i for i in await r.store.live() if i.scope is IncidentScope.DISTRICT]
        await r.engine.resolve(b.id, "lujiazui-duty")
        await r.engine.resolve(district.id, "district-duty")
        await r.engine.on_edge_event(water("w1", Level.RED, street="huamu", t=T0 + S))
        assert (await r.store.get(district.id)).state is St.RESOLVED  # type: ignore[union-attr]
        await r.engine.on_edge_event(water("w2", Level.RED, street="lujiazui", t=T0 + S))
        reopened = await r.store.get(district.id)
        assert reopened is not None
        assert (reopened.state, reopened.level) == (St.OPEN, Level.RED)


async def test_a_gateway_offline_then_online() -> None:
    async with rig() as r:
        offline = await r.engine.on_hub_event(hub(HubEventType.GATEWAY_OFFLINE, gateway="gw-a"))
        assert offline is not None
        assert (offline.hazard, offline.key) == (Hazard.DEVICE, "pudong/huamu/device/lianyang/*")
        online = await r.engine.on_hub_event(
            hub(HubEventType.GATEWAY_ONLINE, gateway="gw-a", t=T0 + S)
        )
        assert online is not None
        assert online.id == offline.id
        assert online.all_clear_at == T0
        await r.advance(60)
        assert (await r.store.get(offline.id)).state is St.RESOLVED  # type: ignore[union-attr]


async def acknowledged_flood(r: Rig, level: Level, by: str = "wang") -> Incident:
    flood = await r.engine.on_edge_event(water("w1", level))
    assert flood is not None
    acked = await r.engine.acknowledge(flood.id, by)
    assert (acked.state, acked.level) == (St.ACKNOWLEDGED, level)
    return acked


@pytest.mark.parametrize(
    ("acked_at", "sensor", "then", "state", "level"),
    [
        # a rise above the level answered: paged again (叫应)
        (Level.YELLOW, "w1", Level.RED, St.OPEN, Level.RED),
        (Level.YELLOW, "w2", Level.RED, St.OPEN, Level.RED),
        (Level.YELLOW, "w1", Level.ORANGE, St.OPEN, Level.ORANGE),
        # the level answered again, or lower: stays acknowledged
        (Level.RED, "w2", Level.RED, St.ACKNOWLEDGED, Level.RED),
        (Level.ORANGE, "w2", Level.YELLOW, St.ACKNOWLEDGED, Level.ORANGE),
        (Level.ORANGE, "w1", Level.YELLOW, St.ACKNOWLEDGED, Level.YELLOW),
        (Level.ORANGE, "w2", Level.ORANGE, St.ACKNOWLEDGED, Level.ORANGE),
    ],
)
async def test_an_acknowledged_incident_reopens_only_when_its_level_rises_above_the_answer(
    acked_at: Level, sensor: str, then: Level, state: IncidentState, level: Level
) -> None:
    async with rig() as r:
        acked = await acknowledged_flood(r, acked_at)
        after = await r.engine.on_edge_event(water(sensor, then, t=T0 + S))
        assert after is not None
        assert (after.id, after.state, after.level) == (acked.id, state, level)
        trail = await r.store.audit(acked.id)
        ack = next(e for e in trail if e.action is A.ACKNOWLEDGED)
        assert (ack.actor, ack.detail) == ("wang", f"level={acked_at.value}")
        reopened = [e for e in trail if e.action is A.REOPENED]
        if state is St.OPEN:
            assert (after.acknowledged_at, after.acknowledged_by) == (None, None)
            assert [e.detail for e in reopened] == [
                f"level rose {acked_at.value}→{level.value} after acknowledgement by wang"
            ]
            assert [e.action for e in trail[-3:]] == [A.UPDATED, A.LEVEL_CHANGED, A.REOPENED]
            told, before = r.changes[-1]  # what the escalator is told: acknowledged → open
            assert told == after
            assert before is not None
            assert (before.state, before.level) == (St.ACKNOWLEDGED, acked_at)
        else:
            assert (after.acknowledged_at, after.acknowledged_by) == (T0, "wang")
            assert reopened == []


async def test_the_level_answered_not_the_last_one_decides() -> None:
    async with rig() as r:
        acked = await acknowledged_flood(r, Level.ORANGE)
        fell = await r.engine.on_edge_event(water("w1", Level.YELLOW, t=T0 + S))
        back = await r.engine.on_edge_event(water("w1", Level.ORANGE, t=T0 + 2 * S))
        assert fell is not None
        assert back is not None
        assert (fell.state, back.state) == (St.ACKNOWLEDGED, St.ACKNOWLEDGED)
        assert back.level is Level.ORANGE
        red = await r.engine.on_edge_event(water("w1", Level.RED, t=T0 + 3 * S))
        assert red is not None
        assert (red.id, red.state, red.level) == (acked.id, St.OPEN, Level.RED)
        (reopened,) = [e for e in await r.store.audit(acked.id) if e.action is A.REOPENED]
        assert reopened.detail == "level rose orange→red after acknowledgement by wang"
        # answered again at red: a fall and a rise back to red stay acknowledged
        again = await r.engine.acknowledge(acked.id, "li")
        await r.engine.on_edge_event(water("w1", Level.YELLOW, t=T0 + 4 * S))
        last = await r.engine.on_edge_event(water("w1", Level.RED, t=T0 + 5 * S))
        assert last is not None
        assert (again.state, last.state, last.acknowledged_by) == (
            St.ACKNOWLEDGED, St.ACKNOWLEDGED, "li",
        )  # fmt: skip
        assert [a for a in await r.actions(acked.id) if a is A.REOPENED] == [A.REOPENED]


async def test_a_reopen_names_the_level_answered_when_it_was_not_the_last_one() -> None:
    async with rig() as r:
        acked = await acknowledged_flood(r, Level.ORANGE)
        await r.engine.on_edge_event(water("w1", Level.YELLOW, t=T0 + S))
        red = await r.engine.on_edge_event(water("w1", Level.RED, t=T0 + 2 * S))
        assert red is not None
        assert red.state is St.OPEN
        assert (await r.store.audit(acked.id))[-1].detail == (
            "level rose yellow→red after acknowledgement by wang at orange"
        )


async def test_a_rule_raising_an_acknowledged_incident_reopens_it() -> None:
    async with rig() as r:
        fire = await r.engine.on_edge_event(edge("s1"))
        assert fire is not None
        await r.engine.acknowledge(fire.id, "zhang")
        gas = await r.engine.on_edge_event(edge("g1", KindName.GAS, level=Level.YELLOW))
        assert gas is not None
        raised = await r.store.get(fire.id)
        assert raised is not None
        assert (raised.state, raised.level, raised.rule) == (St.OPEN, Level.RED, "smoke_and_gas")
        assert (await r.store.audit(fire.id))[-1].detail == (
            "level rose orange→red after acknowledgement by zhang"
        )


async def test_a_rise_while_open_only_replans() -> None:
    async with rig() as r:
        flood = await r.engine.on_edge_event(water("w1", Level.YELLOW))
        assert flood is not None
        red = await r.engine.on_edge_event(water("w1", Level.RED, t=T0 + S))
        assert red is not None
        assert (red.state, red.level) == (St.OPEN, Level.RED)
        assert A.REOPENED not in await r.actions(flood.id)


@pytest.mark.parametrize("ack_first", [True, False])
async def test_a_rise_after_an_ack_and_a_resolve_follows_the_resolved_rules(
    ack_first: bool,
) -> None:
    async with rig() as r:
        flood = await r.engine.on_edge_event(water("w1", Level.YELLOW))
        assert flood is not None
        ack = r.engine.acknowledge(flood.id, "wang")
        resolve = r.engine.resolve(flood.id, "li")
        await asyncio.gather(*((ack, resolve) if ack_first else (resolve, ack)))
        resolved = await r.store.get(flood.id)
        assert resolved is not None
        assert resolved.state is St.RESOLVED  # the race never reopens
        falling = await r.engine.on_edge_event(water("w1", Level.BLUE, t=T0 + S))
        assert falling is not None
        assert falling.state is St.RESOLVED
        rising = await r.engine.on_edge_event(water("w1", Level.RED, t=T0 + 2 * S))
        assert rising is not None
        assert (rising.state, rising.acknowledged_by, rising.resolved_by) == (St.OPEN, None, None)
        reopened = [e for e in await r.store.audit(flood.id) if e.action is A.REOPENED]
        assert [e.detail for e in reopened] == [f"threshold raised {rising.signals[0].key} red"]


async def test_an_acknowledgement_recorded_without_its_level_reopens_on_any_rise(
    tmp_path: Path,
) -> None:
    path = tmp_path / "incidents.db"
    # As a hub before acknowledgements named their level left it: answered (at orange, say),
    # then fallen to yellow. Which level was answered is unknown, so a rise pages again.
    acked = flood_incident("huamu", Level.YELLOW, state=St.ACKNOWLEDGED).model_copy(
        update={
            "signals": (edge_signal(water("w1", Level.YELLOW)),),
            "acknowledged_at": T0,
            "acknowledged_by": "wang",
        }
    )
    async with IncidentStore(path) as store:
        await store.save(acked, [AuditEntry(T0, acked.id, A.ACKNOWLEDGED, "wang")])
    async with rig(path=path) as r:
        back = await r.engine.on_edge_event(water("w1", Level.ORANGE, t=T0 + S))
        assert back is not None
        assert (back.id, back.state, back.level) == (acked.id, St.OPEN, Level.ORANGE)
        assert (await r.store.audit(acked.id))[-1].detail == (
            "level rose yellow→orange after acknowledgement by wang"
        )
