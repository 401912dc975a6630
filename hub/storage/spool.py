"""The hub's spool: a durable FIFO of point batches the database could not take (yet).

One SQLite file (set up as described in ``hub.storage.spool_file``), one row per appended batch
(the points as compact JSON, see ``hub.storage.spool_codec``). :meth:`Spool.append` returns only
after its commit has been fsynced: once it has returned neither a ``kill -9`` nor a power cut
can lose the batch. Points, bytes and batches stored are summed once on opening and then kept
as running totals.

Quota: the JSON bytes stored (not the file's size, which also holds SQLite's pages and the
write-ahead log). An append that would take them over the quota raises :class:`SpoolFull`, and
so does a full disk; an append to an empty spool is always accepted, or a batch larger than
the whole quota could never be stored.

Errors::

    SpoolError    the file cannot be opened or used: the message names it and what to do
    SpoolFull     no room now: wait until draining has removed something, then append again
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from hub.storage.base import Point
from hub.storage.spool_codec import SpoolDecodeError, decode_points, encode_points
from hub.storage.spool_file import SpoolError, SpoolFull, describe, error_of, setup
from streetwatch.sqlite_file import SqliteFile

__all__ = ["Spool", "SpoolError", "SpoolFull", "SpooledBatch"]

_CHUNK = 64


@dataclass(frozen=True, slots=True)
class SpooledBatch:
    """The oldest stored points, in the order they were appended. ``id`` is the last stored
    batch they come from: :meth:`Spool.remove` with it removes them all."""

    id: int
    points: tuple[Point, ...]


class Spool(SqliteFile):
    _already_open = "this spool is already open"
    _not_open = "use the spool inside `async with Spool(...) as spool:`"

    def __init__(self, path: Path | None, quota_bytes: int, *, lock_timeout_s: float = 5.0) -> None:
        """``path=None`` keeps the spool in memory: for unit tests only, it survives nothing."""
        if quota_bytes <= 0:
            raise ValueError(f"quota_bytes must be positive, not {quota_bytes}")
        super().__init__(path, lock_timeout_s=lock_timeout_s)
        self.quota_bytes = quota_bytes
        self._points = 0
        self._bytes = 0
        self._batches = 0

    @property
    def depth_points(self) -> int:
        return self._points

    @property
    def depth_bytes(self) -> int:
        return self._bytes

    @property
    def depth_batches(self) -> int:
        return self._batches

    @property
    def _where(self) -> str:
        return describe(self.path)

    async def append(self, points: Sequence[Point]) -> None:
        """Store ``points`` as the newest batch; durable once this returns."""
        if not points:
            return
        payload = encode_points(points)
        if self._batches and self._bytes + len(payload) > self.quota_bytes:
            raise SpoolFull(
                f"{self._where} holds {self._bytes} of {self.quota_bytes} bytes; "
                f"a batch of {len(payload)} does not fit"
            )
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO spool (points, size, payload) VALUES (?, ?, ?)",
                (len(points), len(payload), payload),
            )
            self._points += len(points)
            self._bytes += len(payload)
            self._batches += 1

    async def oldest(self, max_points: int) -> SpooledBatch | None:
        """The oldest whole batches, as many as fit in ``max_points`` (at least one; a batch
        is never split), or ``None`` when the spool is empty."""
        if max_points < 1:
            raise ValueError(f"max_points must be at least 1, not {max_points}")
        db = self._open()
        async with self._lock:
            last_id = await self._last_of_oldest(db, max_points)
            if last_id is None:
                return None
            rows = await db.execute_fetchall(
                "SELECT id, payload FROM spool WHERE id <= ? ORDER BY id", (last_id,)
            )
            points = [point for id_, payload in rows for point in self._decode(id_, payload)]
        return SpooledBatch(last_id, tuple(points))

    async def remove(self, batch_id: int) -> None:
        """Remove the batch ``batch_id`` and every older one (they have been stored)."""
        async with self._transaction() as db:
            await self._delete(db, batch_id)

    async def replace(self, batch_id: int, remaining: Sequence[Point]) -> None:
        """Keep only ``remaining`` of the oldest batches up to ``batch_id``, in their place
        at the head of the queue (the others have been stored or given up on)."""
        if not remaining:
            await self.remove(batch_id)
            return
        payload = encode_points(remaining)
        async with self._transaction() as db:
            await self._delete(db, batch_id)
            await db.execute(
                "INSERT INTO spool (id, points, size, payload) VALUES (?, ?, ?, ?)",
                (batch_id, len(remaining), len(payload), payload),
            )
            self._points += len(remaining)
            self._bytes += len(payload)
            self._batches += 1

    # -----------------------------------------------------------------------------------------

    async def _last_of_oldest(self, db: aiosqlite.Connection, max_points: int) -> int | None:
        """The id of the last of the oldest batches that together fit in ``max_points``."""
        total = 0
        last_id: int | None = None
        while True:
            rows = list(
                await db.execute_fetchall(  # not the payloads: they are read once chosen
                    "SELECT id, points FROM spool WHERE id > ? ORDER BY id LIMIT ?",
                    (last_id or 0, _CHUNK),
                )
            )
            for id_, count in rows:
                if last_id is not None and total + count > max_points:
                    return last_id
                total += count
                last_id = id_
            if len(rows) < _CHUNK or total >= max_points:
                return last_id

    async def _delete(self, db: aiosqlite.Connection, batch_id: int) -> None:
        rows = await db.execute_fetchall(
            "DELETE FROM spool WHERE id <= ? RETURNING points, size", (batch_id,)
        )
        for count, size in rows:
            self._points -= count
            self._bytes -= size
            self._batches -= 1

    def _decode(self, batch_id: int, payload: bytes) -> list[Point]:
        try:
            return decode_points(payload)
        except SpoolDecodeError as exc:
            raise SpoolError(
                f"{self._where}: batch {batch_id} cannot be read ({exc}); the file is damaged: "
                f"stop the hub and delete that batch (sqlite3 FILE 'DELETE FROM spool WHERE id = "
                f"{batch_id}'; its points are lost), or move the whole file aside"
            ) from exc

    async def _rolled_back(self, db: aiosqlite.Connection, exc: BaseException) -> None:
        """A write transaction failed: read the running totals again from the file."""
        await self._load(db)
        if isinstance(exc, sqlite3.Error):
            raise error_of(self.path, exc) from exc

    async def _connect(self) -> aiosqlite.Connection:
        if self.path is not None and self.path.is_dir():
            raise SpoolError(f"cannot open {self._where}: it is a directory, not a file")
        return await super()._connect()

    def _missing_directory(self, path: Path) -> SpoolError:
        return SpoolError(
            f"cannot open {describe(path)}: its directory does not exist; "
            "create it or configure another storage.spool_path"
        )

    def _cannot_connect(self, exc: sqlite3.Error) -> SpoolError:
        return SpoolError(f"cannot open {self._where}: {exc}; check that it is a writable file")

    async def _setup(self, db: aiosqlite.Connection) -> None:
        await setup(db, self.path)
        await self._load(db)

    async def _load(self, db: aiosqlite.Connection) -> None:
        rows = await db.execute_fetchall(
            "SELECT COUNT(*), COALESCE(SUM(points), 0), COALESCE(SUM(size), 0) FROM spool"
        )
        self._batches, self._points, self._bytes = next(iter(rows))
