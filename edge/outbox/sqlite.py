"""The durable outbox: one SQLite file, one table, every public method one transaction.

Durability. The file is in WAL mode with ``synchronous=FULL`` by default: every commit fsyncs
the write-ahead log, so a record survives power loss, not just a crash of the process
(``NORMAL`` only survives the latter in WAL mode). The price is one fsync per transaction,
which is fine at gateway rates because adds are batched (:meth:`SqliteOutbox.add_many`).
:meth:`SqliteOutbox.add` returns only after its commit: once it has returned, a ``kill -9``
or a power cut cannot lose the record.

Layout. ``outbox`` holds the records; an index on (lane, id) serves :meth:`take` in priority
order, a unique index on (boot, channel, seq) makes adding the same seq twice a no-op
(:attr:`AddOutcome.DUPLICATE`) and serves confirm and requeue. ``dropped`` keeps the drop
counters and ``evicted`` the evicted telemetry ranges, so both survive restarts too. Depth,
payload bytes and the in-flight count are summed once when the file is opened and then kept
as running totals, so :meth:`stats` and the quota check never scan the table.

Opening the file releases every record that was in flight: a new process has no uplink
session waiting for acknowledgements, so they are due at once. Attempts are kept. The file is
opened with an exclusive lock: one gateway agent per outbox file.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Collection, Sequence
from pathlib import Path

import aiosqlite

from edge.outbox.base import (
    AddOutcome,
    DropReason,
    EvictedRange,
    GapLedger,
    Lane,
    NewRecord,
    OutboxError,
    OutboxRecord,
    OutboxStats,
    check_quota,
    check_ranges,
    check_take,
    empty_dropped,
    lane_order,
    over_budget,
    pressure_of,
    telemetry_fits,
)
from streetwatch.sqlite_file import SqliteFile

SCHEMA_VERSION = 1
SYNCHRONOUS_MODES = ("FULL", "EXTRA", "NORMAL", "OFF")
_EVICT_CHUNK = 256

_SCHEMA = """
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: ids are never reused
    lane       INTEGER NOT NULL,
    channel    TEXT    NOT NULL,
    boot       TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    payload    BLOB    NOT NULL,
    size       INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    sent_ms    INTEGER                             -- NULL: due now, else when last taken
);
CREATE INDEX outbox_lane_id ON outbox (lane, id);
CREATE UNIQUE INDEX outbox_key ON outbox (boot, channel, seq);
CREATE TABLE dropped (reason TEXT PRIMARY KEY, count INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE evicted (
    boot TEXT NOT NULL, channel TEXT NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL,
    PRIMARY KEY (boot, channel, first)
) WITHOUT ROWID;
"""

_DUE = "(sent_ms IS NULL OR sent_ms < ? OR sent_ms > ?)"
_COLUMNS = "id, lane, channel, boot, seq, payload, created_ms, attempts"


class SqliteOutbox(SqliteFile):
    """See :class:`edge.outbox.base.Outbox` and the module docstring."""

    path: Path
    _already_open = "this outbox is already open"
    _not_open = "use the outbox inside `async with SqliteOutbox(...) as box:`"
    _error = OutboxError
    _what = "outbox"
    _article = "an"
    _cannot_use_advice = (
        "only one gateway agent may use an outbox file: stop the other one or give this one its "
        "own path"
    )
    _not_a_database_advice = "move it aside or configure another path"
    _schema = _SCHEMA
    _schema_version = SCHEMA_VERSION
    _schema_advice = "run the matching StreetWatch version to drain it"

    def __init__(
        self,
        path: str | Path,
        *,
        quota_bytes: int,
        synchronous: str = "FULL",
        lock_timeout_s: float = 5.0,
    ) -> None:
        """``lock_timeout_s``: how long opening waits for another process to let go of the file
        (a previous agent still shutting down) before raising :class:`OutboxError`."""
        if synchronous.upper() not in SYNCHRONOUS_MODES:
            raise ValueError(
                f"synchronous={synchronous!r} is not one of {', '.join(SYNCHRONOUS_MODES)}"
            )
        super().__init__(Path(path), lock_timeout_s=lock_timeout_s)
        self.quota_bytes = check_quota(quota_bytes)
        self.synchronous = synchronous.upper()
        # Running totals, mirrors of the file; reloaded from it after a failed transaction.
        self._depth: dict[Lane, int] = dict.fromkeys(Lane, 0)
        self._bytes = 0
        self._in_flight = 0
        self._dropped = empty_dropped()
        self._gaps = GapLedger()

    async def add(
        self, lane: Lane, channel: str, boot: str, seq: int, payload: bytes, created_ms: int
    ) -> AddOutcome:
        (outcome,) = await self.add_many([NewRecord(lane, channel, boot, seq, payload, created_ms)])
        return outcome

    async def add_many(self, items: Sequence[NewRecord]) -> list[AddOutcome]:
        outcomes: list[AddOutcome] = []
        if not items:
            return outcomes
        async with self._transaction() as db:
            dropped: Counter[str] = Counter()
            evicted_keys: set[tuple[str, str]] = set()
            for item in items:
                outcomes.append(await self._add(db, item, dropped, evicted_keys))
            await self._count_drops(db, dropped)
            for boot, channel in evicted_keys:
                await db.execute(
                    "DELETE FROM evicted WHERE boot = ? AND channel = ?", (boot, channel)
                )
                await db.executemany(
                    "INSERT INTO evicted (boot, channel, first, last) VALUES (?, ?, ?, ?)",
                    [(boot, channel, lo, hi) for lo, hi in self._gaps.of(boot, channel)],
                )
        return outcomes

    async def take(
        self,
        limit: int,
        *,
        now_ms: int,
        resend_after_ms: int,
        lanes: Collection[Lane] | None = None,
        max_bytes: int | None = None,
    ) -> list[OutboxRecord]:
        check_take(limit, resend_after_ms, max_bytes)
        taken: list[OutboxRecord] = []
        if limit == 0:
            return taken
        async with self._transaction() as db:
            newly_in_flight = 0
            taken_bytes = 0
            full = False
            for lane in lane_order(lanes):
                due_args = (int(lane), now_ms - resend_after_ms, now_ms)
                want = limit - len(taken)
                if max_bytes is not None:  # sizes first: no payload read that is not taken
                    sizes = await db.execute_fetchall(
                        f"SELECT size FROM outbox WHERE lane = ? AND {_DUE} ORDER BY id LIMIT ?",
                        (*due_args, want),
                    )
                    want = 0
                    for (size,) in sizes:
                        if over_budget(taken_bytes, size, max_bytes):
                            full = True
                            break
                        taken_bytes += size
                        want += 1
                rows = await db.execute_fetchall(
                    f"SELECT {_COLUMNS}, sent_ms IS NULL FROM outbox"
                    f" WHERE lane = ? AND {_DUE} ORDER BY id LIMIT ?",
                    (*due_args, want),
                )
                for id_, lane_, channel, boot, seq, payload, created, attempts, idle in rows:
                    taken.append(
                        OutboxRecord(
                            id_, Lane(lane_), channel, boot, seq, payload, created, attempts + 1
                        )
                    )
                    newly_in_flight += idle
                if full or len(taken) >= limit:
                    break
            await db.executemany(
                "UPDATE outbox SET sent_ms = ?, attempts = attempts + 1 WHERE id = ?",
                [(now_ms, record.id) for record in taken],
            )
            self._in_flight += newly_in_flight
        return taken

    async def confirm(self, boot: str, channel: str, ranges: Sequence[tuple[int, int]]) -> int:
        checked = check_ranges(ranges)
        deleted = 0
        async with self._transaction() as db:
            for first, last in checked:
                rows = list(
                    await db.execute_fetchall(
                        "DELETE FROM outbox WHERE boot = ? AND channel = ? AND seq BETWEEN ? AND ?"
                        " RETURNING lane, size, sent_ms IS NOT NULL",
                        (boot, channel, first, last),
                    )
                )
                for lane, size, in_flight in rows:
                    self._forget_record(Lane(lane), size, bool(in_flight))
                deleted += len(rows)
        return deleted

    async def requeue(self, boot: str, channel: str, ranges: Sequence[tuple[int, int]]) -> int:
        checked = check_ranges(ranges)
        matched = 0
        async with self._transaction() as db:
            for first, last in checked:
                where = (boot, channel, first, last)
                rows = await db.execute_fetchall(
                    "SELECT COUNT(*) FROM outbox"
                    " WHERE boot = ? AND channel = ? AND seq BETWEEN ? AND ?",
                    where,
                )
                matched += next(iter(rows))[0]
                cursor = await db.execute(
                    "UPDATE outbox SET sent_ms = NULL"
                    " WHERE boot = ? AND channel = ? AND seq BETWEEN ? AND ?"
                    " AND sent_ms IS NOT NULL",
                    where,
                )
                self._in_flight -= cursor.rowcount
        return matched

    async def release(self, ids: Collection[int]) -> None:
        if not ids:
            return
        async with self._transaction() as db:
            cursor = await db.executemany(
                "UPDATE outbox SET sent_ms = NULL WHERE id = ? AND sent_ms IS NOT NULL",
                [(id_,) for id_ in set(ids)],
            )
            self._in_flight -= cursor.rowcount

    async def stats(self) -> OutboxStats:
        self._open()
        async with self._lock:  # never halfway through a transaction
            return OutboxStats(
                depth=dict(self._depth),
                bytes=self._bytes,
                in_flight=self._in_flight,
                dropped=dict(self._dropped),
                pressure=pressure_of(self._bytes, self.quota_bytes),
                quota_bytes=self.quota_bytes,
            )

    async def evicted(self) -> list[EvictedRange]:
        self._open()
        async with self._lock:
            return self._gaps.all()

    async def forget_evicted(
        self, boot: str, channel: str, ranges: Sequence[tuple[int, int]]
    ) -> None:
        check_ranges(ranges)
        async with self._transaction() as db:
            self._gaps.forget(boot, channel, ranges)
            await db.execute("DELETE FROM evicted WHERE boot = ? AND channel = ?", (boot, channel))
            await db.executemany(
                "INSERT INTO evicted (boot, channel, first, last) VALUES (?, ?, ?, ?)",
                [(boot, channel, lo, hi) for lo, hi in self._gaps.of(boot, channel)],
            )

    # -----------------------------------------------------------------------------------------

    async def _add(
        self,
        db: aiosqlite.Connection,
        item: NewRecord,
        dropped: Counter[str],
        evicted_keys: set[tuple[str, str]],
    ) -> AddOutcome:
        if item.lane is Lane.TELEMETRY and not telemetry_fits(
            self._bytes, item.size, self.quota_bytes
        ):
            if await self._exists(db, item):
                return AddOutcome.DUPLICATE
            dropped[DropReason.TELEMETRY_QUOTA] += 1
            return AddOutcome.DROPPED_QUOTA
        cursor = await db.execute(
            "INSERT INTO outbox (lane, channel, boot, seq, payload, size, created_ms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (boot, channel, seq) DO NOTHING",
            (
                int(item.lane),
                item.channel,
                item.boot,
                item.seq,
                item.payload,
                item.size,
                item.created_ms,
            ),
        )
        if cursor.rowcount == 0:
            return AddOutcome.DUPLICATE
        self._depth[item.lane] += 1
        self._bytes += item.size
        if self._bytes > self.quota_bytes and item.lane is not Lane.TELEMETRY:
            await self._evict_telemetry(db, dropped, evicted_keys)
        return AddOutcome.ACCEPTED

    async def _evict_telemetry(
        self, db: aiosqlite.Connection, dropped: Counter[str], evicted_keys: set[tuple[str, str]]
    ) -> None:
        """Delete the oldest telemetry until the stored bytes are back under the quota."""
        after = 0
        last_id: int | None = None
        while self._bytes > self.quota_bytes:
            rows = list(
                await db.execute_fetchall(
                    "SELECT id, boot, channel, seq, size, sent_ms IS NOT NULL FROM outbox"
                    " WHERE lane = ? AND id > ? ORDER BY id LIMIT ?",
                    (int(Lane.TELEMETRY), after, _EVICT_CHUNK),
                )
            )
            if not rows:
                break
            for id_, boot, channel, seq, size, in_flight in rows:
                self._forget_record(Lane.TELEMETRY, size, bool(in_flight))
                self._gaps.add(boot, channel, seq)
                evicted_keys.add((boot, channel))
                dropped[DropReason.TELEMETRY_EVICTED] += 1
                last_id = id_
                if self._bytes <= self.quota_bytes:
                    break
            after = rows[-1][0]
        if last_id is not None:
            await db.execute(
                "DELETE FROM outbox WHERE lane = ? AND id <= ?", (int(Lane.TELEMETRY), last_id)
            )

    async def _exists(self, db: aiosqlite.Connection, item: NewRecord) -> bool:
        rows = await db.execute_fetchall(
            "SELECT 1 FROM outbox WHERE boot = ? AND channel = ? AND seq = ?",
            (item.boot, item.channel, item.seq),
        )
        return bool(list(rows))

    async def _count_drops(self, db: aiosqlite.Connection, dropped: Counter[str]) -> None:
        for reason, count in dropped.items():
            await db.execute(
                "INSERT INTO dropped (reason, count) VALUES (?, ?)"
                " ON CONFLICT (reason) DO UPDATE SET count = count + excluded.count",
                (str(reason), count),
            )
            self._dropped[reason] = self._dropped.get(reason, 0) + count

    def _forget_record(self, lane: Lane, size: int, in_flight: bool) -> None:
        self._depth[lane] -= 1
        self._bytes -= size
        self._in_flight -= in_flight

    async def _rolled_back(self, db: aiosqlite.Connection, exc: BaseException) -> None:
        """The running totals are changed as a transaction goes; read them again."""
        await self._load(db)

    def _cannot_connect(self, exc: sqlite3.Error) -> OutboxError:
        return OutboxError(
            f"cannot open the outbox file {self.path}: {exc}; "
            "check that its directory exists and is writable"
        )

    def _wal_refused(self, mode: str) -> OutboxError:
        return OutboxError(f"{self.path}: the file system refused WAL mode (got {mode!r})")

    async def _setup(self, db: aiosqlite.Connection) -> None:
        await super()._setup(db)  # exclusive WAL, then the schema
        await db.execute("UPDATE outbox SET sent_ms = NULL WHERE sent_ms IS NOT NULL")
        await self._load(db)

    async def _load(self, db: aiosqlite.Connection) -> None:
        """Read the running totals, drop counters and evicted ranges from the file."""
        self._depth = dict.fromkeys(Lane, 0)
        self._bytes = 0
        for lane, count, size in await db.execute_fetchall(
            "SELECT lane, COUNT(*), COALESCE(SUM(size), 0) FROM outbox GROUP BY lane"
        ):
            self._depth[Lane(lane)] = count
            self._bytes += size
        rows = await db.execute_fetchall("SELECT COUNT(*) FROM outbox WHERE sent_ms IS NOT NULL")
        self._in_flight = next(iter(rows))[0]
        self._dropped = empty_dropped()
        for reason, count in await db.execute_fetchall("SELECT reason, count FROM dropped"):
            self._dropped[reason] = count
        rows = await db.execute_fetchall("SELECT boot, channel, first, last FROM evicted")
        self._gaps = GapLedger((boot, channel, first, last) for boot, channel, first, last in rows)
