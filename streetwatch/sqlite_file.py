"""One SQLite file owned by one object: the opening and closing the edge and hub stores share.

:class:`SqliteFile` is an async context manager around one aiosqlite connection. Entering
connects (``path=None``: a database in memory) and runs the subclass's
:meth:`~SqliteFile._setup` (pragmas, schema, running totals), closing the connection again if
that fails; leaving closes it once no transaction holds ``_lock``, under which
:meth:`~SqliteFile._transaction` runs one write transaction. The gateway's outbox and the hub's
spool, sequence store, dead letters, incident store and used links are built on it.

:func:`use_exclusive_wal` and :func:`create_schema` are the steps of ``_setup`` they share; the
default ``_setup`` runs both. The errors a person reads are worded here once, from what a
subclass sets: its exception type, the word naming its file (``_what``) and the advice that
differs (``_schema_advice``, ...). A subclass whose wording differs further overrides the hook
that words that error.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from abc import ABC
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import ClassVar, Self

import aiosqlite

__all__ = ["SqliteFile", "create_schema", "use_exclusive_wal"]


class SqliteFile(ABC):
    """``async with`` opens the file; inside it :meth:`_open` returns the connection.

    A subclass sets the two ``RuntimeError`` messages, ``_error`` and ``_what`` (not needed if
    it overrides every hook that words an error), and holds ``_lock`` for every transaction
    (:meth:`_transaction` does). With the default :meth:`_setup` it also sets ``_schema``,
    ``_schema_version`` and ``_schema_advice``.
    """

    _already_open: ClassVar[str]
    """Raised (as ``RuntimeError``) when the object is entered while it is open."""
    _not_open: ClassVar[str]
    """Raised (as ``RuntimeError``) by :meth:`_open` outside ``async with``."""

    _error: ClassVar[type[Exception]]
    """The type of the errors worded here (called with the message)."""
    _what: ClassVar[str]
    """What the file holds, as the errors name it: ``"sequence"`` makes "the sequence file",
    "a sequence database", "sequence schema"."""
    _article: ClassVar[str] = "a"
    """The article before ``_what``: ``"an"`` for "an incident database"."""
    _cannot_use_advice: ClassVar[str] = (
        "another hub may be using it: stop that one or give this one its own path"
    )
    """What to do when the file cannot be switched to WAL, most often because another process
    holds it (the default suits the hub's files)."""
    _not_a_database_advice: ClassVar[str] = "move it aside"
    """What to do with a file that is no SQLite database."""

    _schema: ClassVar[str]
    """The ``CREATE`` statements of a new file, each ending in ``;`` (see :func:`create_schema`)."""
    _schema_version: ClassVar[int]
    """The schema version this software reads and writes."""
    _schema_advice: ClassVar[str]
    """What to do with a file of another schema version."""

    synchronous: str = "FULL"
    """``PRAGMA synchronous`` with the exclusive WAL of the default :meth:`_setup`."""

    def __init__(self, path: Path | None, *, lock_timeout_s: float = 5.0) -> None:
        """``lock_timeout_s``: how long connecting waits for another process to let go of the
        file."""
        self.path = path
        self.lock_timeout_s = lock_timeout_s
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> Self:
        if self._db is not None:
            raise RuntimeError(self._already_open)
        db = await self._connect()
        try:
            await self._setup(db)
        except BaseException:
            await db.close()
            raise
        self._db = db
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        db, self._db = self._db, None
        if db is not None:
            async with self._lock:  # never halfway through a transaction
                await db.close()

    def _open(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError(self._not_open)
        return self._db

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction under ``_lock``. If it fails (or is cancelled) it is rolled
        back and :meth:`_rolled_back` runs before the error passes on."""
        db = self._open()
        async with self._lock:
            try:
                await db.execute("BEGIN IMMEDIATE")
                yield db
                await db.execute("COMMIT")
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    await db.execute("ROLLBACK")
                await self._rolled_back(db, exc)
                raise

    async def _connect(self) -> aiosqlite.Connection:
        # Checked first: aiosqlite leaves a failed connect's thread running.
        if self.path is not None and not self.path.parent.is_dir():
            raise self._missing_directory(self.path)
        target = ":memory:" if self.path is None else self.path
        try:
            return await aiosqlite.connect(
                target, isolation_level=None, timeout=self.lock_timeout_s
            )
        except sqlite3.Error as exc:
            error = self._cannot_connect(exc)
            if error is None:
                raise
            raise error from exc

    async def _setup(self, db: aiosqlite.Connection) -> None:
        """Run once ``db`` is connected; if it raises, ``db`` is closed and the error passes.

        By default: unless in memory, lock the file and switch it to WAL
        (:meth:`_use_exclusive_wal`), then create or check the schema (:meth:`_create_schema`).
        """
        if self.path is not None:
            await self._use_exclusive_wal(db)
        await self._create_schema(db)

    async def _use_exclusive_wal(self, db: aiosqlite.Connection) -> None:
        """:func:`use_exclusive_wal` with ``synchronous`` and the errors worded below."""
        await use_exclusive_wal(
            db,
            self.synchronous,
            cannot_use=self._cannot_use,
            not_a_database=self._not_a_database,
            refused=self._wal_refused,
        )

    async def _create_schema(self, db: aiosqlite.Connection) -> None:
        """:func:`create_schema` with ``_schema``; a file of another version is refused."""
        version = await create_schema(db, self._schema, self._schema_version)
        if version != self._schema_version:
            raise self._error(
                f"{self.path} has {self._what} schema {version}, this software reads "
                f"{self._schema_version}; {self._schema_advice}"
            )

    def _missing_directory(self, path: Path) -> Exception:
        """The error to raise when the directory ``path`` would be in does not exist."""
        return self._error(
            f"cannot open the {self._what} file {path}: its directory does not exist; "
            "create it or configure another path"
        )

    def _cannot_use(self, exc: sqlite3.OperationalError) -> Exception:
        """The error to raise when SQLite cannot switch the file to WAL (``exc``)."""
        return self._error(
            f"cannot use the {self._what} file {self.path}: {exc}; {self._cannot_use_advice}"
        )

    def _not_a_database(self, exc: sqlite3.DatabaseError) -> Exception:
        """The error to raise when the file is no SQLite database (``exc``)."""
        return self._error(
            f"{self.path} is not {self._article} {self._what} database ({exc}); "
            f"{self._not_a_database_advice}"
        )

    def _wal_refused(self, mode: str) -> Exception:
        """The error to raise when SQLite answered journal mode ``mode``, not WAL."""
        return self._error(f"{self.path}: the file system refused WAL mode")

    def _cannot_connect(self, exc: sqlite3.Error) -> Exception | None:
        """The error to raise when connecting fails with ``exc``; ``None`` lets ``exc`` pass."""
        return None

    async def _rolled_back(  # noqa: B027 (an optional hook: nothing to do by default)
        self, db: aiosqlite.Connection, exc: BaseException
    ) -> None:
        """After :meth:`_transaction` rolled back because of ``exc``: put what is kept in memory
        right again, or raise the error ``exc`` means to the caller."""


async def use_exclusive_wal(
    db: aiosqlite.Connection,
    synchronous: str,
    *,
    cannot_use: Callable[[sqlite3.OperationalError], Exception],
    not_a_database: Callable[[sqlite3.DatabaseError], Exception],
    refused: Callable[[str], Exception],
) -> None:
    """Lock the file for this connection alone, switch it to WAL, then set ``synchronous``.

    Locking exclusively before the first WAL access also keeps the WAL index in memory. The
    callables word the errors: ``cannot_use`` when SQLite cannot switch (most often another
    process holds the file), ``not_a_database`` when the file is no SQLite database, and
    ``refused`` (given the mode SQLite answered) when the file system cannot do WAL.
    """
    await db.execute("PRAGMA locking_mode = EXCLUSIVE")
    try:
        rows = await db.execute_fetchall("PRAGMA journal_mode = WAL")
    except sqlite3.OperationalError as exc:
        raise cannot_use(exc) from exc
    except sqlite3.DatabaseError as exc:
        raise not_a_database(exc) from exc
    mode = next(iter(rows))[0]
    if mode != "wal":
        raise refused(mode)
    await db.execute(f"PRAGMA synchronous = {synchronous}")


async def create_schema(db: aiosqlite.Connection, schema: str, version: int) -> int:
    """In a new database (``user_version`` 0), create ``schema`` and set ``user_version`` to
    ``version``, in one transaction. Returns the database's schema version: the caller refuses
    one it cannot read."""
    (found,) = next(iter(await db.execute_fetchall("PRAGMA user_version")))
    if found == 0:
        await db.executescript(f"BEGIN; {schema} PRAGMA user_version = {version}; COMMIT;")
        return version
    return int(found)
