from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from hub.ingest.deadletter import DeadLetterError, DeadLetters

T0 = 1_700_000_000_000
TOPIC = "sw/v1/d1/s1/gw-a/data"


async def test_the_ring_keeps_the_newest_and_counts_the_dropped(tmp_path: Path) -> None:
    async with DeadLetters(tmp_path / "dl.db", max_entries=3) as letters:
        for i in range(5):
            await letters.add(TOPIC, b"%d" % i, "schema", f"bad {i}", T0 + i)
        recent = await letters.recent()
        assert [d.detail for d in recent] == ["bad 4", "bad 3", "bad 2"]  # newest first
        assert (len(letters), letters.dropped) == (3, 2)
        assert letters.counts() == {"schema": 5}  # dropped ones still counted


async def test_payload_is_cut_but_its_size_kept(tmp_path: Path) -> None:
    async with DeadLetters(tmp_path / "dl.db", max_payload_bytes=8) as letters:
        await letters.add(TOPIC, b"x" * 100, "too_large", "huge", T0)
        await letters.add(TOPIC, b"tiny", "not_json", "tiny", T0)
        tiny, huge = await letters.recent()
        assert (huge.payload, huge.size, huge.truncated) == (b"x" * 8, 100, True)
        assert (tiny.payload, tiny.size, tiny.truncated) == (b"tiny", 4, False)
        assert (huge.topic, huge.reason, huge.t_ms) == (TOPIC, "too_large", T0)


async def test_recent_by_reason_and_limit(tmp_path: Path) -> None:
    async with DeadLetters(tmp_path / "dl.db") as letters:
        for i, reason in enumerate(["schema", "not_json", "schema", "impersonation", "schema"]):
            await letters.add(TOPIC, b"{}", reason, str(i), T0 + i)
        assert [d.detail for d in await letters.recent(reason="schema")] == ["4", "2", "0"]
        assert [d.detail for d in await letters.recent(2, "schema")] == ["4", "2"]
        assert [d.detail for d in await letters.recent(2)] == ["4", "3"]
        assert await letters.recent(reason="wrong_place") == []


async def test_counts_ring_and_letters_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "dl.db"
    async with DeadLetters(path, max_entries=2) as letters:
        for reason in ("schema", "schema", "not_json"):
            await letters.add(TOPIC, b"{}", reason, "", T0)
    async with DeadLetters(path, max_entries=2) as letters:
        assert letters.counts() == {"schema": 2, "not_json": 1}
        assert (len(letters), letters.dropped) == (2, 1)
        await letters.add(TOPIC, b"{}", "schema", "", T0)
        assert (len(letters), letters.dropped) == (2, 2)
        assert letters.counts()["schema"] == 3
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT COUNT(*) FROM letter").fetchone() == (2,)


async def test_in_memory_and_long_texts() -> None:
    async with DeadLetters(None) as letters:
        await letters.add("t/" * 1000, b"", "bad_topic", "why " * 1000, T0)
        (letter,) = await letters.recent()
        assert len(letter.topic) == 1024
        assert len(letter.detail) == 2000
        assert letter.detail.endswith("…")


async def test_missing_directory_is_explained(tmp_path: Path) -> None:
    with pytest.raises(DeadLetterError, match="directory does not exist"):
        async with DeadLetters(tmp_path / "nope" / "dl.db"):
            pass
