"""Where the sequence tracker keeps what must survive a hub restart: one SQLite file.

What is kept. Per (gateway, boot, channel), the ranges of sequence numbers durably stored
(``stored``) and those the gateway reported evicted (``lost``), one row per merged range, and
per gateway its boots in the order the hub first saw them (``rank``). A row is replaced by its
wider merge as a channel counts up, so a gateway sending in order costs one row per channel,
not one per message. Pending numbers are not kept: they were not stored, and after a crash the
gateway sends them again.

Durability. WAL with ``synchronous=FULL``: :meth:`SeqStore.write` returns after its commit is
on disk, so a number the tracker said was stored is still known after ``kill -9`` or a power
cut. The file is opened with an exclusive lock: one hub per file. ``path=None`` keeps it all
in memory (tests, throwaway runs).

Writing a range deletes the rows it contains and inserts it; that is right because the tracker
only ever writes the current merged range around a changed number, and ranges only grow.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from streetwatch.sqlite_file import SqliteFile

SCHEMA_VERSION = 1
RangeKind = Literal["stored", "lost"]

_SCHEMA = """
CREATE TABLE boot (
    gateway TEXT NOT NULL, boot TEXT NOT NULL, rank INTEGER NOT NULL,
    PRIMARY KEY (gateway, boot)
) WITHOUT ROWID;
CREATE TABLE seq_range (
    gateway TEXT NOT NULL, boot TEXT NOT NULL, channel TEXT NOT NULL, kind TEXT NOT NULL,
    first INTEGER NOT NULL, last INTEGER NOT NULL,
    PRIMARY KEY (gateway, boot, channel, kind, first)
) WITHOUT ROWID;
"""


class SeqStoreError(Exception):
    """The sequence file cannot be opened or used; the message says what to do."""


@dataclass(frozen=True, slots=True)
class BootRow:
    gateway: str
    boot: str
    rank: int  # larger: first seen later


@dataclass(frozen=True, slots=True)
class RangeRow:
    gateway: str
    boot: str
    channel: str
    kind: RangeKind
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class SeqSnapshot:
    boots: tuple[BootRow, ...]
    ranges: tuple[RangeRow, ...]


class SeqStore(SqliteFile):
    """See the module docstring. ``async with SeqStore(path) as store`` opens the file."""

    _already_open = "this sequence store is already open"
    _not_open = "the sequence store is not open: use `async with`"
    _error = SeqStoreError
    _what = "sequence"
    _schema = _SCHEMA
    _schema_version = SCHEMA_VERSION
    _schema_advice = "move the file aside (the hub then re-confirms what gateways send again)"

    def __init__(self, path: Path | None, *, lock_timeout_s: float = 5.0) -> None:
        super().__init__(path, lock_timeout_s=lock_timeout_s)

    async def load(self) -> SeqSnapshot:
        async with self._lock:
            db = self._open()
            boots = await db.execute_fetchall("SELECT gateway, boot, rank FROM boot")
            ranges = await db.execute_fetchall(
                "SELECT gateway, boot, channel, kind, first, last FROM seq_range"
            )
        return SeqSnapshot(
            tuple(BootRow(*row) for row in boots), tuple(RangeRow(*row) for row in ranges)
        )

    async def write(
        self,
        *,
        boots: Sequence[BootRow] = (),
        ranges: Sequence[RangeRow] = (),
        forget: Sequence[tuple[str, str]] = (),
    ) -> None:
        """In one transaction: drop the (gateway, boot)s of ``forget`` entirely, then note
        ``boots`` and widen ``ranges``."""
        if not (boots or ranges or forget):
            return
        async with self._lock:
            db = self._open()
            await db.execute("BEGIN IMMEDIATE")
            try:
                for table in ("boot", "seq_range"):  # first: a boot may be forgotten and back
                    await db.executemany(
                        f"DELETE FROM {table} WHERE gateway = ? AND boot = ?", forget
                    )
                await db.executemany(
                    "INSERT OR IGNORE INTO boot (gateway, boot, rank) VALUES (?, ?, ?)",
                    [(b.gateway, b.boot, b.rank) for b in boots],
                )
                for r in ranges:
                    key = (r.gateway, r.boot, r.channel, r.kind)
                    await db.execute(
                        "DELETE FROM seq_range WHERE gateway = ? AND boot = ? AND channel = ?"
                        " AND kind = ? AND first BETWEEN ? AND ?",
                        (*key, r.first, r.last),
                    )
                    await db.execute(
                        "INSERT INTO seq_range VALUES (?, ?, ?, ?, ?, ?)", (*key, r.first, r.last)
                    )
                await db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    await db.execute("ROLLBACK")
                raise
