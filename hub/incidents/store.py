"""Where incidents and their audit trail are kept: one SQLite file, durable on every save.

Each incident is one row (its JSON, with the columns queries need); :meth:`IncidentStore.save`
replaces the row and appends the audit entries of that change in the same transaction, so the
trail never claims a change the incident lacks or the other way round. WAL with
``synchronous=FULL``: a save that returned survives ``kill -9`` and a power cut. The file is
opened with an exclusive lock: one hub per file. ``path=None`` keeps it in memory (tests).

Ids are ``PREFIX-YYYYMMDD-NNNN``: the Beijing date the incident opened and a counter per day
kept in the file, so they are short enough to read out on the phone, sort by opening, and never
repeat across restarts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

from hub.incidents.audit import AuditAction, AuditEntry
from hub.incidents.model import Incident, IncidentState
from streetwatch.sqlite_file import SqliteFile

__all__ = ["IncidentStore", "IncidentStoreError"]

SCHEMA_VERSION = 1
BEIJING = timezone(timedelta(hours=8), "CST")
_LIVE = (IncidentState.OPEN, IncidentState.ACKNOWLEDGED, IncidentState.RESOLVED)
_ACTIVE = (IncidentState.OPEN, IncidentState.ACKNOWLEDGED)

_SCHEMA = """
CREATE TABLE incident (
    id TEXT PRIMARY KEY, key TEXT NOT NULL, state TEXT NOT NULL, district TEXT NOT NULL,
    street TEXT, opened_at INTEGER NOT NULL, body TEXT NOT NULL
);
CREATE INDEX incident_key ON incident (key, state);
CREATE INDEX incident_state ON incident (state, district, street);
CREATE INDEX incident_opened ON incident (opened_at, id);
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, t INTEGER NOT NULL, incident_id TEXT,
    action TEXT NOT NULL, actor TEXT, channel TEXT, recipient TEXT, detail TEXT NOT NULL
);
CREATE INDEX audit_incident ON audit (incident_id, seq);
CREATE TABLE day_counter (day TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
"""
_INSERT_AUDIT = "INSERT INTO audit VALUES (NULL, ?, ?, ?, ?, ?, ?, ?)"
_AUDIT_COLUMNS = ("t", "incident_id", "action", "actor", "channel", "recipient", "detail")


class IncidentStoreError(Exception):
    """The incident file cannot be opened or used; the message says what to do."""


class IncidentStore(SqliteFile):
    """See the module docstring. ``async with IncidentStore(path) as store`` opens the file."""

    _already_open = "this incident store is already open"
    _not_open = "the incident store is not open: use `async with`"
    _error = IncidentStoreError
    _what = "incident"
    _article = "an"
    _schema = _SCHEMA
    _schema_version = SCHEMA_VERSION
    _schema_advice = "upgrade the software or move the file aside"

    async def next_id(self, t_ms: int, prefix: str = "I") -> str:
        """A new incident id for an incident opened at ``t_ms`` (durable before it returns)."""
        day = datetime.fromtimestamp(t_ms / 1000, BEIJING).strftime("%Y%m%d")
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO day_counter VALUES (?, 1) ON CONFLICT (day) DO UPDATE SET n = n + 1",
                (f"{prefix}-{day}",),
            )
            rows = await db.execute_fetchall(
                "SELECT n FROM day_counter WHERE day = ?", (f"{prefix}-{day}",)
            )
        return f"{prefix}-{day}-{next(iter(rows))[0]:04d}"

    async def save(self, incident: Incident, audit: Sequence[AuditEntry] = ()) -> None:
        """Write ``incident`` (replacing its earlier version) and ``audit``, atomically."""
        async with self._transaction() as db:
            await db.execute(
                "INSERT OR REPLACE INTO incident VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    incident.id,
                    incident.key,
                    incident.state.value,
                    incident.district,
                    incident.street,
                    incident.opened_at,
                    incident.model_dump_json(),
                ),
            )
            await db.executemany(_INSERT_AUDIT, [_audit_row(e) for e in audit])

    async def record(self, entry: AuditEntry) -> None:
        async with self._transaction() as db:
            await db.execute(_INSERT_AUDIT, _audit_row(entry))

    async def get(self, incident_id: str) -> Incident | None:
        found = await self._select("WHERE id = ?", (incident_id,))
        return found[0] if found else None

    async def find_active(self, key: str) -> Incident | None:
        """The incident of grouping key ``key`` that a new event would join: open,
        acknowledged, or resolved but not yet closed (a trigger reopens it)."""
        found = await self._select(
            "WHERE key = ? AND state IN (?, ?, ?) ORDER BY opened_at DESC, id DESC LIMIT 1",
            (key, *_LIVE),
        )
        return found[0] if found else None

    async def live(self) -> list[Incident]:
        """Every incident not closed (the engine's working set after a restart)."""
        return await self._select("WHERE state IN (?, ?, ?) ORDER BY opened_at, id", _LIVE)

    async def active(
        self, district: str | None = None, street: str | None = None
    ) -> list[Incident]:
        """Open and acknowledged incidents, oldest first; of a district, of a street (including
        district and city incidents that span it)."""
        found = await self._select("WHERE state IN (?, ?) ORDER BY opened_at, id", _ACTIVE)
        return [
            i
            for i in found
            if (district is None or district == i.district or district in i.districts)
            and (street is None or street == i.street or street in i.streets)
        ]

    async def recent(self, limit: int = 50) -> list[Incident]:
        """The ``limit`` most recently opened incidents, newest first."""
        return await self._select("ORDER BY opened_at DESC, id DESC LIMIT ?", (limit,))

    async def audit(self, incident_id: str | None) -> list[AuditEntry]:
        """The trail of one incident (``None``: entries about no incident), oldest first."""
        async with self._lock:
            rows = await self._open().execute_fetchall(
                f"SELECT {', '.join(_AUDIT_COLUMNS)} FROM audit"
                " WHERE incident_id IS ? ORDER BY seq",
                (incident_id,),
            )
        return [_audit_entry(row) for row in rows]

    async def audit_csv(self, incident_id: str | None = None) -> str:
        """The trail as CSV with a header: of one incident, or of all (``None``)."""
        where = "" if incident_id is None else "WHERE incident_id = ?"
        async with self._lock:
            rows = await self._open().execute_fetchall(
                f"SELECT {', '.join(_AUDIT_COLUMNS)} FROM audit {where} ORDER BY seq",
                () if incident_id is None else (incident_id,),
            )
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("time", *_AUDIT_COLUMNS))
        for row in rows:
            when = datetime.fromtimestamp(row[0] / 1000, UTC).astimezone(BEIJING)
            writer.writerow((when.isoformat(timespec="milliseconds"), *row))
        return out.getvalue()

    async def _select(self, where: str, args: Sequence[object]) -> list[Incident]:
        async with self._lock:
            rows = await self._open().execute_fetchall(f"SELECT body FROM incident {where}", args)
        return [Incident.model_validate_json(row[0]) for row in rows]

    def _wal_refused(self, mode: str) -> IncidentStoreError:
        return IncidentStoreError(
            f"{self.path}: the file system refused WAL mode; use a local disk"
        )


def _audit_row(e: AuditEntry) -> tuple[object, ...]:
    return (e.t, e.incident_id, e.action.value, e.actor, e.channel, e.recipient, e.detail)


def _audit_entry(row: Sequence[object]) -> AuditEntry:
    t, incident_id, action, actor, channel, recipient, detail = row
    return AuditEntry(
        int(t),  # type: ignore[call-overload]
        None if incident_id is None else str(incident_id),
        AuditAction(str(action)),
        None if actor is None else str(actor),
        None if channel is None else str(channel),
        None if recipient is None else str(recipient),
        str(detail),
    )
