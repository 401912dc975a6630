"""Opening the spool's SQLite database: checks, pragmas, schema, and errors a person can act on.

Like the gateway's outbox (``edge.outbox.sqlite``): WAL mode with ``synchronous=FULL``, so a
commit survives power loss and not just a crash, and an exclusive lock, so one hub per file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE spool (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: ids are never reused
    points  INTEGER NOT NULL,
    size    INTEGER NOT NULL,
    payload BLOB    NOT NULL
)
"""


class SpoolError(Exception):
    """The spool file cannot be opened or used; the message names the file and the remedy."""


class SpoolFull(Exception):
    """The batch does not fit under the quota (or on the disk) now."""


def describe(path: Path | None) -> str:
    return "the in-memory spool" if path is None else f"the spool file {path}"


def error_of(path: Path | None, exc: sqlite3.Error) -> Exception:
    """What a failed write transaction means for the caller."""
    if getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL":
        return SpoolFull(f"{describe(path)}: the disk is full ({exc})")
    return SpoolError(f"{describe(path)} cannot be written: {exc}; check the disk and the file")


async def connect(path: Path | None, lock_timeout_s: float) -> aiosqlite.Connection:
    """Open (creating if need be) the spool database at ``path``, or one in memory."""
    where = describe(path)
    if path is not None:
        _check_path(path)
    try:
        db = await aiosqlite.connect(
            ":memory:" if path is None else path, isolation_level=None, timeout=lock_timeout_s
        )
    except sqlite3.Error as exc:
        raise SpoolError(f"cannot open {where}: {exc}; check that it is a writable file") from exc
    try:
        await _setup(db, path)
    except BaseException:
        await db.close()
        raise
    return db


def _check_path(path: Path) -> None:
    """Checked before connecting: aiosqlite leaves a failed connect's thread running."""
    if not path.parent.is_dir():
        raise SpoolError(
            f"cannot open {describe(path)}: its directory does not exist; "
            "create it or configure another storage.spool_path"
        )
    if path.is_dir():
        raise SpoolError(f"cannot open {describe(path)}: it is a directory, not a file")


async def _setup(db: aiosqlite.Connection, path: Path | None) -> None:
    where = describe(path)
    try:
        if path is not None:
            # Exclusive locking before the first WAL access also keeps the WAL index in memory.
            await db.execute("PRAGMA locking_mode = EXCLUSIVE")
            (mode,) = next(iter(await db.execute_fetchall("PRAGMA journal_mode = WAL")))
            if mode != "wal":
                raise SpoolError(f"{where}: the file system refused WAL mode (got {mode!r})")
            await db.execute("PRAGMA synchronous = FULL")
        await db.execute("BEGIN IMMEDIATE")
        (version,) = next(iter(await db.execute_fetchall("PRAGMA user_version")))
        (tables,) = next(iter(await db.execute_fetchall("SELECT COUNT(*) FROM sqlite_master")))
        if version == 0 and tables:
            raise sqlite3.DatabaseError("it holds other tables")
        if version == 0:
            await db.execute(_SCHEMA)
            await db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            version = SCHEMA_VERSION
        await db.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        if getattr(exc, "sqlite_errorname", "") in ("SQLITE_BUSY", "SQLITE_LOCKED"):
            raise SpoolError(
                f"cannot use {where}: {exc}; only one hub may use a spool file: stop the other "
                "one or give this one its own storage.spool_path"
            ) from exc
        raise SpoolError(
            f"cannot use {where}: {exc}; check that the file and its directory are writable, "
            "or configure another storage.spool_path"
        ) from exc
    except sqlite3.DatabaseError as exc:
        raise SpoolError(
            f"{where} is not a spool database ({exc}); move it aside or configure another "
            "storage.spool_path"
        ) from exc
    if version != SCHEMA_VERSION:
        raise SpoolError(
            f"{where} has spool schema {version}, this software reads {SCHEMA_VERSION}; run "
            "the matching StreetWatch version to drain it"
        )
