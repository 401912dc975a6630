"""Messages the hub refused, kept for an operator to look at: a bounded ring in SQLite.

Each refusal is kept with its topic, reason code (``not_json``, ``schema``, ``impersonation``...),
a sentence saying what was wrong, when, and the payload: cut to ``max_payload_bytes`` (its
original size is kept), so a flood of huge junk cannot fill the disk. Only the newest
``max_entries`` are kept; older ones are dropped and counted (``dropped``). The count per reason
runs since the file was created and survives restarts (``counts()``).

One transaction per :meth:`DeadLetters.add`, in WAL mode with ``synchronous=NORMAL``: a crash
of the process loses nothing, a power cut may lose the last few, which is fine for a diagnostic
log. ``path=None`` keeps it in memory.
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from streetwatch.sqlite_file import SqliteFile

SCHEMA_VERSION = 1
MAX_TOPIC_CHARS = 1024
MAX_DETAIL_CHARS = 2000

_SCHEMA = """
CREATE TABLE letter (
    id INTEGER PRIMARY KEY AUTOINCREMENT, t_ms INTEGER NOT NULL, topic TEXT NOT NULL,
    reason TEXT NOT NULL, detail TEXT NOT NULL, payload BLOB NOT NULL, size INTEGER NOT NULL
);
CREATE INDEX letter_reason ON letter (reason, id);
CREATE TABLE refused (reason TEXT PRIMARY KEY, count INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE ring (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO ring VALUES ('dropped', 0);
"""
_COLUMNS = "id, t_ms, topic, reason, detail, payload, size"


class DeadLetterError(Exception):
    """The dead-letter file cannot be opened; the message says what to do."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    t_ms: int
    topic: str
    reason: str
    detail: str
    payload: bytes  # at most max_payload_bytes of it
    size: int  # the payload's size as received

    @property
    def truncated(self) -> bool:
        return len(self.payload) < self.size


class DeadLetters(SqliteFile):
    _already_open = "these dead letters are already open"
    _not_open = "the dead letters are not open: use `async with`"
    _error = DeadLetterError
    _what = "dead-letter"
    _schema = _SCHEMA
    _schema_version = SCHEMA_VERSION
    _schema_advice = "move the file aside"
    synchronous = "NORMAL"

    def __init__(
        self, path: Path | None, max_entries: int = 10_000, max_payload_bytes: int = 65_536
    ) -> None:
        if max_entries < 1 or max_payload_bytes < 0:
            raise ValueError("need max_entries >= 1 and max_payload_bytes >= 0")
        super().__init__(path)
        self.max_entries = max_entries
        self.max_payload_bytes = max_payload_bytes
        self._entries = 0
        self._counts: dict[str, int] = {}
        self._dropped = 0

    async def add(self, topic: str, payload: bytes, reason: str, detail: str, t_ms: int) -> None:
        row = (
            t_ms,
            _cut(topic, MAX_TOPIC_CHARS),
            reason,
            _cut(detail, MAX_DETAIL_CHARS),
            bytes(payload[: self.max_payload_bytes]),
            len(payload),
        )
        async with self._lock:
            db = self._open()
            excess = max(0, self._entries + 1 - self.max_entries)
            await db.execute("BEGIN IMMEDIATE")
            try:
                await db.execute(
                    "INSERT INTO letter (t_ms, topic, reason, detail, payload, size)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    row,
                )
                await db.execute(
                    "INSERT INTO refused VALUES (?, 1)"
                    " ON CONFLICT (reason) DO UPDATE SET count = count + 1",
                    (reason,),
                )
                if excess:
                    await db.execute(
                        "DELETE FROM letter"
                        " WHERE id IN (SELECT id FROM letter ORDER BY id LIMIT ?)",
                        (excess,),
                    )
                    await db.execute(
                        "UPDATE ring SET value = value + ? WHERE key = 'dropped'", (excess,)
                    )
                await db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    await db.execute("ROLLBACK")
                raise
            self._entries += 1 - excess
            self._counts[reason] = self._counts.get(reason, 0) + 1
            self._dropped += excess

    async def recent(self, limit: int = 50, reason: str | None = None) -> list[DeadLetter]:
        """The newest ``limit`` letters (of ``reason``, if given), newest first."""
        where, args = ("WHERE reason = ?", (reason, limit)) if reason else ("", (limit,))
        async with self._lock:
            rows = await self._open().execute_fetchall(
                f"SELECT {_COLUMNS} FROM letter {where} ORDER BY id DESC LIMIT ?", args
            )
        return [DeadLetter(*row) for row in rows]

    def counts(self) -> dict[str, int]:
        """Refusals per reason since the file was created (dropped ones included)."""
        return dict(self._counts)

    @property
    def dropped(self) -> int:
        """How many letters were dropped to keep at most ``max_entries``."""
        return self._dropped

    def __len__(self) -> int:
        return self._entries

    def _missing_directory(self, path: Path) -> DeadLetterError:
        return DeadLetterError(
            f"cannot open the dead-letter file {path}: its directory does not exist"
        )

    async def _setup(self, db: aiosqlite.Connection) -> None:
        # WAL, but not locked exclusively as the default `_setup` would.
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute(f"PRAGMA synchronous = {self.synchronous}")
        await self._create_schema(db)
        ((self._entries,),) = await db.execute_fetchall("SELECT COUNT(*) FROM letter")
        rows = await db.execute_fetchall("SELECT reason, count FROM refused")
        self._counts = {str(row[0]): int(row[1]) for row in rows}
        ((self._dropped,),) = await db.execute_fetchall(
            "SELECT value FROM ring WHERE key = 'dropped'"
        )


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
