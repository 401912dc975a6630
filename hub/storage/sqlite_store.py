"""The embedded time-series store: one SQLite file, the default backend.

Layout. ``series`` holds one row per (measurement, tags), with the tags as a JSON object and the
tags queries filter on (sensor, gateway, district, street, community) copied into indexed
columns. ``points`` holds (series, time_ms, fields as JSON), keyed by (series, time_ms), with an
index on time for unfiltered queries and for :meth:`SqliteStore.prune`.

Idempotence. Writing a point whose series and time exist merges its fields into the stored ones
(``json_patch``), which is what InfluxDB does: the same point written twice is stored once.

Series rows stay when :meth:`SqliteStore.prune` deletes their last points (a few dozen bytes
per series), so their ids remain valid in the in-memory cache.

Durability. WAL with ``synchronous=FULL`` and one transaction per :meth:`SqliteStore.write`:
once ``write`` has returned, the points survive a power cut, so the hub may acknowledge the MQTT
messages they came from.
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path
from typing import Self

import aiosqlite
import orjson

from hub.storage.base import (
    Point,
    QueryFilter,
    Row,
    StorageError,
    StorageRejected,
    StorageUnavailable,
)
from hub.storage.config import SqliteStoreConfig
from hub.storage.schema import window_measurement

__all__ = ["SqliteStore"]

SCHEMA_VERSION = 1
_DAY_MS = 86_400_000
_PRUNE_CHUNK = 20_000
_TAG_COLUMNS = ("sensor", "gateway", "district", "street", "community")
_INT64 = (-(2**63), 2**63 - 1)

_SCHEMA = f"""
CREATE TABLE series (
    id          INTEGER PRIMARY KEY,
    measurement TEXT NOT NULL,
    tags        TEXT NOT NULL,  -- JSON object, keys sorted: with measurement, the series key
    {", ".join(f"{c} TEXT" for c in _TAG_COLUMNS)},
    UNIQUE (measurement, tags)
);
{"".join(f"CREATE INDEX series_{c} ON series ({c}) WHERE {c} IS NOT NULL;" for c in _TAG_COLUMNS)}
CREATE TABLE points (
    series  INTEGER NOT NULL REFERENCES series (id),
    time_ms INTEGER NOT NULL,
    fields  TEXT    NOT NULL,  -- JSON object
    PRIMARY KEY (series, time_ms)
) WITHOUT ROWID;
CREATE INDEX points_time ON points (time_ms);
PRAGMA user_version = {SCHEMA_VERSION};
"""

_UPSERT = (
    "INSERT INTO points (series, time_ms, fields) VALUES (?, ?, ?) ON CONFLICT (series, time_ms)"
    " DO UPDATE SET fields = json_patch(points.fields, excluded.fields)"
)

SeriesKey = tuple[str, tuple[tuple[str, str], ...]]


def _fields_json(point: Point) -> str:
    if not point.fields:
        raise ValueError(f"a {point.measurement} point has no fields")
    for name, value in point.fields.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"field {name!r} of {point.measurement} is {value}")
        if isinstance(value, int) and not _INT64[0] <= value <= _INT64[1]:
            raise ValueError(f"field {name!r} of {point.measurement} does not fit in int64")
    return orjson.dumps(dict(point.fields)).decode()


class SqliteStore:
    """See :class:`hub.storage.base.Backend` and the module docstring."""

    name = "sqlite"

    def __init__(self, config: SqliteStoreConfig, state_dir: Path) -> None:
        self.path = state_dir / config.path
        self.retention_ms = int(config.retention_days * _DAY_MS)
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._series: dict[SeriesKey, int] = {}

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except (ValueError, TypeError, OverflowError) as exc:
            raise StorageRejected(f"SQLite store {self.path}: cannot {doing}: {exc}") from exc
        except sqlite3.OperationalError as exc:  # locked, read-only, disk full, I/O error
            raise StorageUnavailable(
                f"SQLite store {self.path}: cannot {doing}: {exc}; check the disk and the "
                "file's permissions"
            ) from exc
        except sqlite3.Error as exc:
            raise StorageError(
                f"SQLite store {self.path}: cannot {doing}: {exc}; the file is damaged or not "
                "a StreetWatch store: move it away (the hub starts a new one) and restore a backup"
            ) from exc

    async def __aenter__(self) -> Self:
        # Checked first: a failed aiosqlite connect leaves its thread behind.
        if not self.path.parent.is_dir():
            raise StorageError(
                f"SQLite store {self.path}: its directory does not exist; create it or set "
                "storage.sqlite.path"
            )
        if self.path.exists() and not self.path.is_file():
            raise StorageError(f"SQLite store {self.path}: not a file; set storage.sqlite.path")
        with self._errors("open it"):
            db = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            with self._errors("open it"):
                await self._setup(db)
        except BaseException:
            await db.close()
            raise
        self._db = db
        return self

    async def _setup(self, db: aiosqlite.Connection) -> None:
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute("PRAGMA synchronous = FULL")
        ((version,),) = await db.execute_fetchall("PRAGMA user_version")
        if version == 0:
            await db.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} COMMIT;")
        elif version != SCHEMA_VERSION:
            raise StorageError(
                f"SQLite store {self.path} has schema version {version}, this hub knows "
                f"{SCHEMA_VERSION}; use a matching hub version or move the file away"
            )

    async def __aexit__(self, *exc: object) -> None:
        db, self._db = self._db, None
        if db is not None:
            async with self._lock:
                await db.close()

    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StorageUnavailable(f"SQLite store {self.path} is not open")
        return self._db

    async def write(self, points: Sequence[Point]) -> None:
        if not points:
            return
        async with self._transaction("write") as db:
            new: dict[SeriesKey, int] = {}
            rows = []
            for point in points:
                key = (point.measurement, point.tags)
                series = self._series.get(key) or new.get(key) or await self._add_series(db, key)
                new[key] = series
                rows.append((series, point.time_ms, _fields_json(point)))
            await db.executemany(_UPSERT, rows)
        self._series.update(new)  # only once committed: a rolled-back id may be reused

    @asynccontextmanager
    async def _transaction(self, doing: str) -> AsyncIterator[aiosqlite.Connection]:
        """One ``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any error, under the lock.

        BEGIN is inside the ``try``: a cancellation (a storage timeout) while it runs in
        aiosqlite's thread still leaves it run, and the ROLLBACK queued behind it closes it.
        """
        db = self._conn()
        async with self._lock:
            with self._errors(doing):
                try:
                    await db.execute("BEGIN IMMEDIATE")
                    yield db
                    await db.execute("COMMIT")
                except BaseException:
                    with suppress(sqlite3.Error):
                        await db.execute("ROLLBACK")
                    raise

    async def _add_series(self, db: aiosqlite.Connection, key: SeriesKey) -> int:
        measurement, tags = key
        tag_map = dict(tags)
        tags_json = orjson.dumps(tag_map).decode()
        columns = [tag_map.get(c) for c in _TAG_COLUMNS]
        await db.execute(
            f"INSERT OR IGNORE INTO series (measurement, tags, {', '.join(_TAG_COLUMNS)})"
            f" VALUES (?, ?{', ?' * len(_TAG_COLUMNS)})",
            (measurement, tags_json, *columns),
        )
        ((series,),) = await db.execute_fetchall(
            "SELECT id FROM series WHERE measurement = ? AND tags = ?", (measurement, tags_json)
        )
        return int(series)

    async def query(self, q: QueryFilter) -> list[Row]:
        sql, args = _select(q)
        db = self._conn()
        async with self._lock:
            with self._errors("query"):
                found = await db.execute_fetchall(sql, args)
        rows = [Row(m, t, orjson.loads(tags), orjson.loads(f)) for m, tags, t, f in found]
        rows.reverse()
        return rows

    async def prune(self, now_ms: int) -> int:
        """Delete points older than the retention; returns how many. Chunked, so that writes
        can go in between when a lot has expired."""
        cutoff, deleted = now_ms - self.retention_ms, 0
        while True:
            async with self._transaction("delete expired points") as db:
                cursor = await db.execute(
                    "DELETE FROM points WHERE (series, time_ms) IN (SELECT series, time_ms"
                    " FROM points WHERE time_ms < ? LIMIT ?)",
                    (cutoff, _PRUNE_CHUNK),
                )
                deleted += cursor.rowcount
            if cursor.rowcount < _PRUNE_CHUNK:
                return deleted

    async def ping(self) -> bool:
        if self._db is None:
            return False
        try:
            async with self._lock:
                await self._db.execute_fetchall("SELECT 1")
        except sqlite3.Error:
            return False
        return True


def _select(q: QueryFilter) -> tuple[str, list[object]]:
    """The SQL and arguments for ``q``: newest first, ``since_ms <= time < until_ms``."""
    if q.limit < 1:
        raise ValueError(f"limit must be at least 1, got {q.limit}")
    where: list[str] = []
    args: list[object] = []

    def cond(sql: str, *values: object) -> None:
        where.append(sql)
        args.extend(values)

    if q.measurement is not None:
        cond("s.measurement = ?", q.measurement)
    if q.kind is not None:
        cond("s.measurement IN (?, ?)", q.kind, window_measurement(q.kind))
    for column in _TAG_COLUMNS:
        if (value := getattr(q, column)) is not None:
            cond(f"s.{column} = ?", value)
    # With a series filter, walk the matching series (by their indexes), then the points of each
    # by (series, time); without one, walk the time index backwards.
    join = "series s CROSS JOIN points p" if where else "points p JOIN series s"
    cond("p.time_ms >= ?", q.since_ms)
    if q.until_ms is not None:
        cond("p.time_ms < ?", q.until_ms)
    args.append(q.limit)
    sql = (
        f"SELECT s.measurement, s.tags, p.time_ms, p.fields FROM {join} ON p.series = s.id"
        f" WHERE {' AND '.join(where)} ORDER BY p.time_ms DESC LIMIT ?"
    )
    return sql, args
