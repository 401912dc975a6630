"""What only the SQLite outbox promises: it survives closing, cancellation and ``kill -9``."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path

import aiosqlite
import pytest

from edge.outbox import AddOutcome, EvictedRange, Lane, NewRecord, OutboxError, SqliteOutbox

BOOT = "b00700a1"
QUOTA = 10_000_000
REPO = Path(__file__).resolve().parents[4]


def rec(lane: Lane, seq: int, size: int = 10) -> NewRecord:
    channel = {Lane.EVENT: "event", Lane.STATE: "state", Lane.TELEMETRY: "data"}[lane]
    return NewRecord(lane, channel, BOOT, seq, bytes([seq % 256]) * size, created_ms=seq)


async def integrity(path: Path) -> str:
    async with aiosqlite.connect(path) as db:
        rows = list(await db.execute_fetchall("PRAGMA integrity_check"))
    return str(rows[0][0])


async def test_reopening_keeps_every_unconfirmed_record_in_order_with_attempts(
    tmp_path: Path,
) -> None:
    path = tmp_path / "outbox.db"
    async with SqliteOutbox(path, quota_bytes=QUOTA) as box:
        await box.add_many([rec(Lane.TELEMETRY, s) for s in range(5)])
        await box.add_many([rec(Lane.EVENT, s) for s in range(3)] + [rec(Lane.STATE, 0)])
        await box.take(4, now_ms=1_000, resend_after_ms=60_000)  # events 0-2, state 0
        await box.take(2, now_ms=2_000, resend_after_ms=60_000)  # telemetry 0-1
        await box.release(
            [r.id for r in await box.take(1, now_ms=61_001, resend_after_ms=60_000)]
        )  # event 0 taken a second time, then released
        await box.confirm(BOOT, "event", [(1, 1)])
        await box.confirm(BOOT, "data", [(3, 3)])
        before = await box.stats()
        last_id = max(r.id for r in await box.take(100, now_ms=10**9, resend_after_ms=0))

    async with SqliteOutbox(path, quota_bytes=QUOTA) as box:
        after = await box.stats()
        taken = await box.take(100, now_ms=3_000, resend_after_ms=60_000)
        assert await box.add_many([rec(Lane.EVENT, 9)]) == [AddOutcome.ACCEPTED]
        (new,) = await box.take(10, now_ms=3_000, resend_after_ms=60_000)

    assert (after.depth, after.bytes, after.dropped) == (before.depth, before.bytes, before.dropped)
    assert after.in_flight == 0  # reopening released everything: no uplink is waiting
    assert [(r.lane, r.seq, r.attempts) for r in taken] == [
        (Lane.EVENT, 0, 4),
        (Lane.EVENT, 2, 3),
        (Lane.STATE, 0, 3),
        (Lane.TELEMETRY, 0, 3),
        (Lane.TELEMETRY, 1, 3),
        (Lane.TELEMETRY, 2, 2),
        (Lane.TELEMETRY, 4, 2),
    ]
    assert [r.payload for r in taken] == [rec(r.lane, r.seq).payload for r in taken]
    assert new.id > last_id


async def test_reopening_keeps_drop_counters_and_evicted_ranges(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    async with SqliteOutbox(path, quota_bytes=100) as box:
        await box.add_many([rec(Lane.TELEMETRY, s, 25) for s in range(5)])
        await box.add_many([rec(Lane.EVENT, 0, 50)])
        before = (await box.stats(), await box.evicted())

    async with SqliteOutbox(path, quota_bytes=100) as box:
        after = (await box.stats(), await box.evicted())

    assert after == before
    assert after[0].dropped == {"telemetry_quota": 1, "telemetry_evicted": 2}
    assert after[1] == [EvictedRange(BOOT, "data", 0, 1)]


async def test_the_file_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    async with SqliteOutbox(path, quota_bytes=QUOTA) as box:
        await box.add(Lane.EVENT, "event", BOOT, 0, b"x", 0)

    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("PRAGMA user_version").fetchone() == (1,)


async def test_a_cancelled_add_is_all_or_nothing(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    async with SqliteOutbox(path, quota_bytes=QUOTA, synchronous="OFF") as box:
        await box.add_many([rec(Lane.EVENT, 0)])
        adding = asyncio.create_task(box.add_many([rec(Lane.TELEMETRY, s) for s in range(500)]))
        # White box: wait until the transaction is halfway through (its running totals move).
        while box._depth[Lane.TELEMETRY] < 5:  # noqa: ASYNC110 (nothing to wait on but this)
            await asyncio.sleep(0)
        adding.cancel()
        with pytest.raises(asyncio.CancelledError):
            await adding
        stats = await box.stats()
        assert stats.depth[Lane.TELEMETRY] == 0
        assert await box.add_many([rec(Lane.EVENT, 1)]) == [AddOutcome.ACCEPTED]
        stats = await box.stats()

    async with SqliteOutbox(path, quota_bytes=QUOTA) as box:
        assert await box.stats() == stats


async def test_a_second_agent_cannot_open_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    async with SqliteOutbox(path, quota_bytes=QUOTA):
        with pytest.raises(OutboxError, match="only one gateway agent"):
            async with SqliteOutbox(path, quota_bytes=QUOTA, lock_timeout_s=0.05):
                pass


async def test_a_missing_directory_is_reported_with_the_path(tmp_path: Path) -> None:
    path = tmp_path / "no-such-dir" / "outbox.db"
    with pytest.raises(OutboxError, match="no-such-dir"):
        async with SqliteOutbox(path, quota_bytes=QUOTA):
            pass


async def test_a_file_that_is_not_an_outbox_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(OutboxError, match="not an outbox"):
        async with SqliteOutbox(path, quota_bytes=QUOTA):
            pass


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(OutboxError, match="schema 99"):
        async with SqliteOutbox(path, quota_bytes=QUOTA):
            pass


def test_an_unknown_synchronous_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="synchronous"):
        SqliteOutbox(tmp_path / "outbox.db", quota_bytes=QUOTA, synchronous="SOMETIMES")


_WRITER = """
import asyncio, sys
from edge.outbox import Lane, NewRecord, SqliteOutbox

def size(seq):
    return 200 + (seq * 997) % 6000  # some payloads overflow a page

async def main(path):
    async with SqliteOutbox(path, quota_bytes=10**9) as box:
        seq = 0
        while True:
            if seq % 3:
                await box.add(Lane.EVENT, "event", "b00700a1", seq, b"e" * size(seq), seq)
                done = [seq]
            else:
                batch = [
                    NewRecord(Lane.EVENT, "event", "b00700a1", s, b"b" * size(s), s)
                    for s in range(seq, seq + 5)
                ]
                await box.add_many(batch)
                done = [r.seq for r in batch]
            for s in done:
                print(s, flush=True)
            seq = done[-1] + 1

asyncio.run(main(sys.argv[1]))
"""


async def test_kill_9_while_adding_loses_nothing_already_accepted(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _WRITER,
        str(path),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    assert child.stderr is not None
    acknowledged: list[int] = []
    try:
        while len(acknowledged) < 300:
            line = await asyncio.wait_for(child.stdout.readline(), timeout=30)
            if not line:
                stderr = await child.stderr.read()
                pytest.fail(f"the writer stopped early:\n{stderr.decode()}")
            acknowledged.append(int(line))
    finally:
        if child.returncode is None:
            os.kill(child.pid, signal.SIGKILL)
        await child.wait()
    assert child.returncode == -signal.SIGKILL

    assert await integrity(path) == "ok"
    async with SqliteOutbox(path, quota_bytes=10**9) as box:
        stored = await box.take(100_000, now_ms=0, resend_after_ms=0)
    seqs = [r.seq for r in stored]
    assert set(acknowledged) <= set(seqs)
    assert seqs == sorted(seqs)  # insertion order, and nothing half-written
    assert all(len(r.payload) == 200 + (r.seq * 997) % 6000 for r in stored)
