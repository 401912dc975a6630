from __future__ import annotations

import asyncio
import signal
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from hub.ingest.seqstore import SeqStore
from hub.ingest.sequence import ResendRequest, SeqKey, SequenceTracker

GW = "gw-a"
BOOT = "b00700a1"
T0 = 1_700_000_000_000
S = 1000  # ms


@asynccontextmanager
async def opened(path: Path | None, **options: Any) -> AsyncIterator[SequenceTracker]:
    async with SeqStore(path) as store, SequenceTracker(store, **options) as tracker:
        yield tracker


def admit(t: SequenceTracker, *seqs: int, channel: str = "data", boot: str = BOOT) -> list[str]:
    return [t.admit(GW, boot, channel, s, T0).value for s in seqs]


def keys(*seqs: int, channel: str = "data", boot: str = BOOT) -> list[SeqKey]:
    return [SeqKey(GW, boot, channel, s) for s in seqs]


def asked(t: SequenceTracker, at_ms: int) -> list[tuple[int, int]]:
    return [span for r in t.due_resends(at_ms) for span in r.ranges]


async def test_duplicates_pending_and_stored(tmp_path: Path) -> None:
    async with opened(tmp_path / "seq.db") as t:
        assert admit(t, 0, 1, 1) == ["new", "new", "duplicate"]  # 1 still pending
        await t.stored(keys(0, 1))
        assert admit(t, 0, 1, 2) == ["duplicate", "duplicate", "new"]
        assert t.is_stored(SeqKey(GW, BOOT, "data", 1))
        assert not t.is_stored(SeqKey(GW, BOOT, "data", 2))
        assert admit(t, 0, boot="b00700b2") == ["new"]  # another boot counts on its own
        assert t.stats().duplicates == 3


async def test_released_one_is_accepted_again_and_asked_for() -> None:
    async with opened(None) as t:
        admit(t, 0, 1, 2)
        t.release(GW, BOOT, "data", 1)
        assert t.stats().open_gap_seqs == 1
        assert asked(t, T0) == []  # armed now
        assert asked(t, T0 + 10 * S) == [(1, 1)]
        assert admit(t, 1) == ["new"]
        assert t.stats().open_gap_seqs == 0


async def test_out_of_order_fills_the_gap_without_asking() -> None:
    async with opened(None) as t:
        assert admit(t, 0, 1, 4, 3, 2) == ["new"] * 5
        stats = t.stats()
        assert (stats.gaps_opened, stats.gaps_filled, stats.open_gap_seqs) == (2, 2, 0)
        assert t.due_resends(T0 + 3600 * S) == []


async def test_gap_is_asked_for_after_the_reorder_timeout_then_with_backoff() -> None:
    async with opened(None, reorder_timeout_s=10, resend_max_interval_s=40) as t:
        admit(t, 0, 5)  # 1..4 missing, noticed at T0
        assert asked(t, T0 + 9_999) == []
        assert t.due_resends(T0 + 10 * S) == [ResendRequest(GW, BOOT, "data", ((1, 4),))]
        asks = [s for s in range(11, 300) if asked(t, T0 + s * S)]
        assert asks == [20, 40, 80, 120, 160, 200, 240, 280]  # waits 10, 20, 40, then 40
        admit(t, 2)
        assert asked(t, T0 + 320 * S) == [(1, 1), (3, 4)]
        assert t.stats().resend_requests == 10


async def test_lost_ranges_stop_the_asking() -> None:
    async with opened(None) as t:
        admit(t, 0, 10)
        t.lost(GW, BOOT, "data", 1, 6, T0)
        assert asked(t, T0 + 10 * S) == [(7, 9)]
        t.lost(GW, BOOT, "data", 7, 9, T0)
        assert asked(t, T0 + 3600 * S) == []
        t.lost(GW, BOOT, "data", 11, 20, T0)  # ahead of what arrived: never a gap
        admit(t, 22)
        assert asked(t, T0 + 10 * S) == [(21, 21)]
        stats = t.stats()
        assert (stats.gaps_opened, stats.gaps_lost, stats.open_gap_seqs) == (10, 9, 1)


async def test_first_seq_above_zero_implies_a_gap_from_zero() -> None:
    async with opened(None) as t:
        admit(t, 7, 8)
        assert asked(t, T0 + 10 * S) == [(0, 6)]
        assert t.stats().open_gap_seqs == 7


async def test_health_is_deduplicated_but_never_asked_for() -> None:
    async with opened(None) as t:
        assert admit(t, 3, 3, 9, channel="health") == ["new", "duplicate", "new"]
        t.lost(GW, BOOT, "health", 0, 2, T0)
        assert t.due_resends(T0 + 3600 * S) == []
        assert t.stats().gaps_opened == 0


async def test_more_than_1000_gap_ranges_are_split() -> None:
    async with opened(None) as t:
        admit(t, *range(0, 5000, 2))  # 2499 one-number gaps
        requests = t.due_resends(T0 + 10 * S)
        assert [len(r.ranges) for r in requests] == [1000, 1000, 499]


async def test_stored_survives_reopen_with_compact_rows(tmp_path: Path) -> None:
    path = tmp_path / "seq.db"
    async with opened(path) as t:
        admit(t, *range(100), 105)
        for seq in range(100):
            await t.stored(keys(seq))
        await t.stored(keys(105))
        t.lost(GW, BOOT, "data", 100, 101, T0)
    async with SeqStore(path) as store:
        snapshot = await store.load()
        assert [(r.kind, r.first, r.last) for r in snapshot.ranges] == [
            ("lost", 100, 101),
            ("stored", 0, 99),
            ("stored", 105, 105),
        ]
    async with opened(path) as t:
        assert admit(t, 0, 99, 105) == ["duplicate"] * 3
        assert t.stats().open_gap_seqs == 3  # 102..104 owed again; lost ones not
        assert asked(t, T0) == []  # armed at the first look
        assert asked(t, T0 + 10 * S) == [(102, 104)]
        assert admit(t, 103) == ["new"]


async def test_a_loss_report_for_what_was_stored_keeps_it_stored(tmp_path: Path) -> None:
    # Record 7 reached the hub, its confirm did not reach the gateway (the uplink was cut), the
    # gateway evicted it over its quota and reports 5..9 lost: only 5, 6, 8 and 9 are lost.
    path = tmp_path / "seq.db"
    async with opened(path) as t:
        admit(t, *range(5), 7)
        for seq in (*range(5), 7):
            await t.stored(keys(seq))
        t.lost(GW, BOOT, "data", 5, 9, T0)
    async with SeqStore(path) as store:
        snapshot = await store.load()
        assert sorted((r.kind, r.first, r.last) for r in snapshot.ranges) == [
            ("lost", 5, 6),
            ("lost", 8, 9),
            ("stored", 0, 4),
            ("stored", 7, 7),
        ]


async def test_stored_is_durable_when_the_hub_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "seq.db"
    script = f"""
        import asyncio, os, signal, sys
        from pathlib import Path
        from hub.ingest.seqstore import SeqStore
        from hub.ingest.sequence import SeqKey, SequenceTracker

        async def main():
            store = await SeqStore(Path(sys.argv[1])).__aenter__()
            t = SequenceTracker(store)
            await t.open()
            for seq in range(6):
                t.admit({GW!r}, {BOOT!r}, "data", seq, 0)
            await t.stored([SeqKey({GW!r}, {BOOT!r}, "data", s) for s in range(3)])
            os.kill(os.getpid(), signal.SIGKILL)

        asyncio.run(main())
    """
    hub = await asyncio.create_subprocess_exec(
        sys.executable, "-c", textwrap.dedent(script), str(path), stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await hub.communicate()
    assert hub.returncode == -signal.SIGKILL, stderr.decode()
    async with opened(path) as t:
        assert admit(t, 0, 1, 2, 3, 4, 5) == ["duplicate"] * 3 + ["new"] * 3


async def test_only_the_newest_boots_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "seq.db"
    boots = [f"b00700{i:02x}" for i in range(4)]
    async with opened(path, boots_per_gateway=2) as t:
        for boot in boots[:3]:
            admit(t, 0, 3, boot=boot)  # each with the gap 1..2
            await t.stored(keys(0, 3, boot=boot))
        stats = t.stats()
        assert (stats.boots_forgotten, stats.open_gap_seqs) == (1, 4)
        assert {r.boot for r in t.due_resends(T0 + 10 * S)} == set(boots[1:3])
        assert admit(t, 0, boot=boots[0]) == ["new"]  # forgotten: back as the newest
        await t.stored(keys(0, boot=boots[0]))
    async with SeqStore(path) as store:
        snapshot = await store.load()
        assert {b.boot for b in snapshot.boots} == {boots[2], boots[0]}
        assert {r.boot for r in snapshot.ranges} == {boots[2], boots[0]}
    async with opened(path, boots_per_gateway=1) as t:  # fewer kept now: pruned on open
        assert t.stats().boots_forgotten == 1
        assert admit(t, 0, boot=boots[0]) == ["duplicate"]
        assert admit(t, 0, boot=boots[2]) == ["new"]


async def test_failed_write_is_retried_by_the_next_one(tmp_path: Path) -> None:
    path = tmp_path / "seq.db"
    async with SeqStore(path) as store:
        t = SequenceTracker(store)
        await t.open()
        admit(t, 0, 5)
        broken = store.write

        async def fail(**_: object) -> None:
            raise OSError("disk full")

        store.write = fail  # type: ignore[method-assign]
        with pytest.raises(OSError, match="disk full"):
            await t.stored(keys(0))
        store.write = broken  # type: ignore[method-assign]
        await t.stored(keys(5))  # not next to 0: its write must carry 0 too
    async with opened(path) as t:
        assert admit(t, 0, 5) == ["duplicate", "duplicate"]


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="reorder_timeout_s"):
        SequenceTracker(SeqStore(None), reorder_timeout_s=400, resend_max_interval_s=300)
    with pytest.raises(ValueError, match="boots_per_gateway"):
        SequenceTracker(SeqStore(None), boots_per_gateway=0)
