from __future__ import annotations

import csv
import io
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from hub.incidents.audit import AuditAction, AuditEntry
from hub.incidents.model import Incident, IncidentState
from hub.incidents.store import IncidentStore, IncidentStoreError
from streetwatch.anomalies import Hazard
from streetwatch.levels import Level
from unit.hub.incidents.factory import T0, flood, incident, signal

DAY_MS = 86_400_000
A = AuditAction


async def test_save_get_and_replace(tmp_path: Path) -> None:
    fire = incident(Hazard.FIRE, signal("s1"), id="I-1")
    async with IncidentStore(tmp_path / "incidents.db") as store:
        await store.save(fire)
        assert await store.get("I-1") == fire
        acked = fire.model_copy(update={"state": IncidentState.ACKNOWLEDGED})
        await store.save(acked)
        assert await store.get("I-1") == acked
        assert await store.get("I-2") is None
        assert len(await store.recent()) == 1


async def test_find_active_finds_open_acknowledged_and_resolved_not_closed() -> None:
    async with IncidentStore(None) as store:
        for state in IncidentState:
            subject = flood("huamu", state=state).model_copy(update={"id": f"I-{state.value}"})
            await store.save(subject)
            found = await store.find_active(subject.key)
            assert found == (None if state is IncidentState.CLOSED else subject)
            await store.save(subject.model_copy(update={"state": IncidentState.CLOSED}))
            assert await store.find_active(subject.key) is None


def ids(found: list[Incident]) -> list[str]:
    return sorted(i.id for i in found)


async def test_active_by_district_and_street_includes_spanning_incidents() -> None:
    async with IncidentStore(None) as store:
        a, b = flood("huamu"), flood("lujiazui")
        c = flood("xinjiekou", district="xuanwu")
        gone = flood("zhangjiang", state=IncidentState.RESOLVED)
        district = a.model_copy(
            update={"id": "I-d", "key": "pudong/*/flood/*/*", "street": None,
                    "streets": ("huamu", "lujiazui")},
        )  # fmt: skip
        for i in (a, b, c, gone, district):
            await store.save(i)
        assert ids(await store.active()) == sorted([a.id, b.id, c.id, "I-d"])
        assert ids(await store.active("pudong")) == sorted([a.id, b.id, "I-d"])
        assert ids(await store.active("pudong", "huamu")) == sorted([a.id, "I-d"])
        assert ids(await store.active("xuanwu")) == [c.id]
        assert ids(await store.live()) == sorted([a.id, b.id, c.id, gone.id, "I-d"])


async def test_recent_newest_first() -> None:
    async with IncidentStore(None) as store:
        for n in range(5):
            await store.save(flood(f"s{n}").model_copy(update={"opened_at": T0 + n}))
        assert [i.street for i in await store.recent(3)] == ["s4", "s3", "s2"]


async def test_ids_count_per_beijing_day_and_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "incidents.db"
    # T0 is 2023-11-14 22:13:20 UTC = 2023-11-15 06:13:20 in Beijing.
    async with IncidentStore(path) as store:
        assert await store.next_id(T0) == "I-20231115-0001"
        assert await store.next_id(T0) == "I-20231115-0002"
        assert await store.next_id(T0, "HM") == "HM-20231115-0001"
    async with IncidentStore(path) as store:
        assert await store.next_id(T0 + 60_000) == "I-20231115-0003"
        assert await store.next_id(T0 + DAY_MS) == "I-20231116-0001"
        # 16:00 UTC is midnight in Beijing: the next day.
        assert await store.next_id(T0 - 22 * 3_600_000 + 16 * 3_600_000) == "I-20231115-0004"
        assert await store.next_id(T0 - 6 * 3_600_000 - 13 * 60_000) == "I-20231115-0005"
        assert await store.next_id(T0 - 6 * 3_600_000 - 14 * 60_000) == "I-20231114-0001"


async def test_save_is_durable_and_atomic_with_its_audit(tmp_path: Path) -> None:
    path = tmp_path / "incidents.db"
    fire = incident(Hazard.FIRE, signal("s1"), id="I-1", level=Level.RED)
    async with IncidentStore(path) as store:
        await store.save(fire, [AuditEntry(T0, "I-1", A.OPENED, detail="first")])
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT id, state FROM incident").fetchall() == [("I-1", "open")]
    async with IncidentStore(path) as store:
        assert await store.get("I-1") == fire
        assert [e.detail for e in await store.audit("I-1")] == ["first"]


async def test_audit_trail_per_incident_and_for_none() -> None:
    async with IncidentStore(None) as store:
        await store.record(AuditEntry(T0, "I-1", A.OPENED))
        await store.record(AuditEntry(T0 + 1, None, A.IGNORED, detail="self test"))
        await store.record(
            AuditEntry(T0 + 2, "I-1", A.NOTIFIED, "escalator", "sms", "zhang-wei", "tier 0")
        )
        await store.record(AuditEntry(T0 + 3, "I-2", A.OPENED))
        trail = await store.audit("I-1")
        assert [e.action for e in trail] == [A.OPENED, A.NOTIFIED]
        assert trail[1] == AuditEntry(
            T0 + 2, "I-1", A.NOTIFIED, "escalator", "sms", "zhang-wei", "tier 0"
        )
        assert await store.audit(None) == [AuditEntry(T0 + 1, None, A.IGNORED, detail="self test")]


async def test_audit_csv_round_trips_awkward_text() -> None:
    note = '到场, "积水" 40 cm\nsecond line'
    async with IncidentStore(None) as store:
        await store.record(AuditEntry(T0, "I-1", A.OPENED))
        await store.record(AuditEntry(T0 + 1500, "I-1", A.REPORT, "zhang-wei", detail=note))
        await store.record(AuditEntry(T0 + 2000, "I-2", A.OPENED))
        text = await store.audit_csv("I-1")
        everything = await store.audit_csv()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["time", "t", "incident_id", "action", "actor", "channel", "recipient",
                       "detail"]  # fmt: skip
    assert rows[1][:4] == ["2023-11-15T06:13:20.000+08:00", str(T0), "I-1", "opened"]
    assert rows[2] == ["2023-11-15T06:13:21.500+08:00", str(T0 + 1500), "I-1", "report",
                       "zhang-wei", "", "", note]  # fmt: skip
    assert len(rows) == 3
    assert [r[2] for r in csv.reader(io.StringIO(everything))][1:] == ["I-1", "I-1", "I-2"]


async def test_a_missing_directory_is_explained(tmp_path: Path) -> None:
    with pytest.raises(IncidentStoreError, match="directory does not exist"):
        async with IncidentStore(tmp_path / "nope" / "incidents.db"):
            pass


async def test_a_file_that_is_no_database_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "incidents.db"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(IncidentStoreError, match="not an incident database"):
        async with IncidentStore(path):
            pass
