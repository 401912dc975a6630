from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from streetwatch.sqlite_file import SqliteFile, create_schema, use_exclusive_wal


class NoteError(Exception):
    pass


class Notes(SqliteFile):
    """The smallest subclass: one table, its error words, and a record of what the hooks saw."""

    _already_open = "these notes are already open"
    _not_open = "the notes are not open"

    def __init__(self, path: Path | None, *, fail_setup: bool = False) -> None:
        super().__init__(path, lock_timeout_s=0.05)
        self.fail_setup = fail_setup
        self.connections: list[aiosqlite.Connection] = []
        self.rolled_back: list[BaseException] = []

    async def _setup(self, db: aiosqlite.Connection) -> None:
        self.connections.append(db)
        await create_schema(db, "CREATE TABLE note (text TEXT NOT NULL);", 1)
        if self.fail_setup:
            raise NoteError("setup failed")

    def _missing_directory(self, path: Path) -> NoteError:
        return NoteError(f"no directory for {path}")

    async def _rolled_back(self, db: aiosqlite.Connection, exc: BaseException) -> None:
        self.rolled_back.append(exc)
        if isinstance(exc, sqlite3.IntegrityError):
            raise NoteError("rejected") from exc

    async def count(self) -> int:
        async with self._lock:
            ((n,),) = await self._open().execute_fetchall("SELECT COUNT(*) FROM note")
        return int(n)


async def test_open_use_close_and_open_again(tmp_path: Path) -> None:
    notes = Notes(tmp_path / "notes.db")
    async with notes:
        async with notes._transaction() as db:
            await db.execute("INSERT INTO note VALUES ('a')")
        assert await notes.count() == 1
    assert notes._db is None
    async with notes:
        assert await notes.count() == 1


async def test_outside_async_with_the_subclass_message_is_raised() -> None:
    with pytest.raises(RuntimeError, match="the notes are not open"):
        await Notes(None).count()


async def test_entering_twice_is_refused() -> None:
    async with Notes(None) as notes:
        with pytest.raises(RuntimeError, match="these notes are already open"):
            async with notes:
                pass
        assert await notes.count() == 0


async def test_a_failed_setup_closes_the_connection(tmp_path: Path) -> None:
    notes = Notes(tmp_path / "notes.db", fail_setup=True)
    with pytest.raises(NoteError, match="setup failed"):
        async with notes:
            pass
    (db,) = notes.connections
    with pytest.raises(ValueError, match="no active connection"):
        await db.execute("SELECT 1")
    assert notes._db is None


async def test_a_missing_directory_is_the_subclass_error(tmp_path: Path) -> None:
    with pytest.raises(NoteError, match=r"no directory for .*nope"):
        async with Notes(tmp_path / "nope" / "notes.db"):
            pass


async def _insert(notes: Notes, text: str | None, then_fail: bool = False) -> None:
    async with notes._transaction() as db:
        await db.execute("INSERT INTO note VALUES (?)", (text,))
        if then_fail:
            raise KeyError("boom")


async def test_a_failed_transaction_is_rolled_back_and_the_hook_runs() -> None:
    async with Notes(None) as notes:
        with pytest.raises(KeyError):
            await _insert(notes, "a", then_fail=True)
        assert await notes.count() == 0
        assert [type(exc) for exc in notes.rolled_back] == [KeyError]

        with pytest.raises(NoteError, match="rejected") as caught:  # the hook may reword it
            await _insert(notes, None)
        assert isinstance(caught.value.__cause__, sqlite3.IntegrityError)
        assert await notes.count() == 0


async def test_create_schema_creates_once_and_reports_the_version(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    async with aiosqlite.connect(path) as db:
        assert await create_schema(db, "CREATE TABLE note (text TEXT);", 3) == 3
        await db.execute("INSERT INTO note VALUES ('kept')")
        await db.commit()
        assert await create_schema(db, "CREATE TABLE other (x);", 4) == 3
        rows = await db.execute_fetchall("SELECT name FROM sqlite_master")
        assert list(rows) == [("note",)]


class WalErrors:
    """Words the errors of :func:`use_exclusive_wal` and notes which ones it asked for."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def cannot_use(self, exc: sqlite3.OperationalError) -> NoteError:
        self.seen.append("cannot_use")
        return NoteError(f"in use: {exc}")

    def not_a_database(self, exc: sqlite3.DatabaseError) -> NoteError:
        self.seen.append("not_a_database")
        return NoteError(f"not ours: {exc}")

    def refused(self, mode: str) -> NoteError:
        self.seen.append("refused")
        return NoteError(f"got {mode}")

    async def use(self, db: aiosqlite.Connection, synchronous: str = "FULL") -> None:
        await use_exclusive_wal(
            db,
            synchronous,
            cannot_use=self.cannot_use,
            not_a_database=self.not_a_database,
            refused=self.refused,
        )


async def test_exclusive_wal_sets_the_modes_and_keeps_others_out(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    errors = WalErrors()
    async with aiosqlite.connect(path, isolation_level=None, timeout=0.05) as db:
        await errors.use(db, "NORMAL")
        assert list(await db.execute_fetchall("PRAGMA journal_mode")) == [("wal",)]
        assert list(await db.execute_fetchall("PRAGMA synchronous")) == [(1,)]  # NORMAL
        async with aiosqlite.connect(path, isolation_level=None, timeout=0.05) as other:
            with pytest.raises(NoteError, match="in use: database is locked") as caught:
                await errors.use(other)
            assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    assert errors.seen == ["cannot_use"]


async def test_exclusive_wal_words_a_foreign_file_and_a_refusal(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"not a database at all " * 200)
    errors = WalErrors()
    async with aiosqlite.connect(path, isolation_level=None) as db:
        with pytest.raises(NoteError, match="not ours: file is not a database"):
            await errors.use(db)
    async with aiosqlite.connect(":memory:", isolation_level=None) as db:
        with pytest.raises(NoteError, match="got memory"):
            await errors.use(db)
    assert errors.seen == ["not_a_database", "refused"]
