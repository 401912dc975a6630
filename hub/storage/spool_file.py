"""Setting up the spool's SQLite database: pragmas, schema, and errors a person can act on.

Like the gateway's outbox (``edge.outbox.sqlite``): WAL mode with ``synchronous=FULL``, so a
commit survives power loss and not just a crash, and an exclusive lock, so one hub per file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite

from streetwatch.sqlite_file import use_exclusive_wal

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


async def setup(db: aiosqlite.Connection, path: Path | None) -> None:
    """Prepare the freshly connected spool database at ``path`` (``None``: in memory)."""
    where = describe(path)
    try:
        if path is not None:
            await use_exclusive_wal(
                db,
                "FULL",
                cannot_use=lambda exc: _cannot_use(where, exc),
                not_a_database=lambda exc: _cannot_use(where, exc),
                refused=lambda mode: SpoolError(
                    f"{where}: the file system refused WAL mode (got {mode!r})"
                ),
            )
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
    except sqlite3.DatabaseError as exc:
        raise _cannot_use(where, exc) from exc
    if version != SCHEMA_VERSION:
        raise SpoolError(
            f"{where} has spool schema {version}, this software reads {SCHEMA_VERSION}; run "
            "the matching StreetWatch version to drain it"
        )


def _cannot_use(where: str, exc: sqlite3.DatabaseError) -> SpoolError:
    if not isinstance(exc, sqlite3.OperationalError):
        return SpoolError(
            f"{where} is not a spool database ({exc}); move it aside or configure another "
            "storage.spool_path"
        )
    if getattr(exc, "sqlite_errorname", "") in ("SQLITE_BUSY", "SQLITE_LOCKED"):
        return SpoolError(
            f"cannot use {where}: {exc}; only one hub may use a spool file: stop the other "
            "one or give this one its own storage.spool_path"
        )
    return SpoolError(
        f"cannot use {where}: {exc}; check that the file and its directory are writable, "
        "or configure another storage.spool_path"
    )
