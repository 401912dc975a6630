"""The spool: a FIFO of batches under a quota that keeps every field's type, and (in a file)
survives reopening, cancellation and ``kill -9``."""

from __future__ import annotations

import asyncio
import contextlib
import math
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hub.storage.base import Point
from hub.storage.spool import Spool, SpoolError, SpoolFull
from hub.storage.spool_codec import encode_points

QUOTA = 10_000_000
REPO = Path(__file__).resolve().parents[4]

MakeSpool = Callable[..., Spool]


def pt(n: int, measurement: str = "water_level") -> Point:
    return Point(measurement, (("sensor", f"s{n % 3}"),), {"value": n / 10, "n": n}, 1_000 + n)


def pts(first: int, count: int) -> list[Point]:
    return [pt(n) for n in range(first, first + count)]


@pytest.fixture(params=["memory", "file"])
def make_spool(request: pytest.FixtureRequest, tmp_path: Path) -> MakeSpool:
    path = None if request.param == "memory" else tmp_path / "spool.sqlite3"

    def make(quota_bytes: int = QUOTA) -> Spool:
        return Spool(path, quota_bytes)

    return make


async def test_batches_come_out_oldest_first_merged_up_to_max_points(make_spool: MakeSpool) -> None:
    async with make_spool() as spool:
        assert await spool.oldest(10) is None
        for first in (0, 3, 6, 9):
            await spool.append(pts(first, 3))
        await spool.append([])  # nothing to store, nothing stored
        assert (spool.depth_batches, spool.depth_points) == (4, 12)

        batch = await spool.oldest(7)  # two batches fit, the third would not
        assert batch is not None
        assert batch.points == tuple(pts(0, 6))
        await spool.remove(batch.id)

        rest = await spool.oldest(100)
        assert rest is not None
        assert rest.points == tuple(pts(6, 6))
        assert (spool.depth_batches, spool.depth_points) == (2, 6)
        await spool.remove(rest.id)
        assert await spool.oldest(100) is None
        assert (spool.depth_batches, spool.depth_points, spool.depth_bytes) == (0, 0, 0)


async def test_a_batch_larger_than_max_points_comes_out_whole(make_spool: MakeSpool) -> None:
    async with make_spool() as spool:
        await spool.append(pts(0, 5))
        await spool.append(pts(5, 1))
        batch = await spool.oldest(2)
        assert batch is not None
        assert batch.points == tuple(pts(0, 5))


async def test_replace_keeps_what_is_left_at_the_head(make_spool: MakeSpool) -> None:
    async with make_spool() as spool:
        await spool.append(pts(0, 2))
        await spool.append(pts(2, 2))
        await spool.append(pts(4, 2))
        head = await spool.oldest(4)
        assert head is not None
        await spool.replace(head.id, pts(3, 1))
        assert (spool.depth_batches, spool.depth_points) == (2, 3)
        assert spool.depth_bytes == len(encode_points(pts(3, 1))) + len(encode_points(pts(4, 2)))
        again = await spool.oldest(100)
        assert again is not None
        assert again.points == (pt(3), pt(4), pt(5))


async def test_an_append_over_the_quota_is_refused_until_there_is_room(
    make_spool: MakeSpool,
) -> None:
    size = len(encode_points(pts(0, 4)))
    async with make_spool(quota_bytes=2 * size) as spool:
        await spool.append(pts(0, 4))
        await spool.append(pts(0, 4))  # exactly at the quota
        with pytest.raises(SpoolFull, match="does not fit"):
            await spool.append(pts(0, 4))
        assert (spool.depth_batches, spool.depth_bytes) == (2, 2 * size)
        head = await spool.oldest(4)
        assert head is not None
        await spool.remove(head.id)
        await spool.append(pts(0, 4))
        assert (spool.depth_batches, spool.depth_points) == (2, 8)


async def test_an_empty_spool_takes_a_batch_larger_than_its_quota(make_spool: MakeSpool) -> None:
    async with make_spool(quota_bytes=10) as spool:
        await spool.append(pts(0, 3))
        assert spool.depth_bytes > spool.quota_bytes
        with pytest.raises(SpoolFull):
            await spool.append(pts(3, 1))


async def test_every_field_type_comes_back_exactly(make_spool: MakeSpool) -> None:
    fields: dict[str, float | int | bool | str] = {
        "float": 1.0,
        "negzero": -0.0,
        "tiny": 5e-324,
        "int": 1,
        "big": 2**63 - 1,
        "huge": 2**70,
        "neghuge": -(2**70),
        "true": True,
        "false": False,
        "str": "1.0",
        "text": '水位 "quoted" \\ \n',
        "inf": math.inf,
        "neginf": -math.inf,
        "nan": math.nan,
    }
    original = [
        Point("m", (("district", "越秀"), ("sensor", "s1")), fields, 1_700_000_000_123),
        Point("m", (), {"v": 0}, -5),
    ]
    async with make_spool() as spool:
        await spool.append(original)
        batch = await spool.oldest(10)
    assert batch is not None
    back = batch.points[0]
    assert back.tags == original[0].tags
    assert back.time_ms == original[0].time_ms
    assert list(back.fields) == list(fields)
    for key, value in fields.items():
        got = back.fields[key]
        assert type(got) is type(value), key
        if isinstance(value, float) and math.isnan(value):
            assert isinstance(got, float)
            assert math.isnan(got)
        else:
            assert got == value, key
            assert repr(got) == repr(value), key  # -0.0 stays -0.0
    assert batch.points[1] == original[1]


# ---------------------------------------------------------------------------------------------
# The file


async def test_depths_are_exact_after_reopening(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    async with Spool(path, QUOTA) as spool:
        for first in range(0, 20, 4):
            await spool.append(pts(first, 4))
        head = await spool.oldest(8)
        assert head is not None
        await spool.remove(head.id)
        before = (spool.depth_points, spool.depth_bytes, spool.depth_batches)

    async with Spool(path, QUOTA) as spool:
        assert (spool.depth_points, spool.depth_bytes, spool.depth_batches) == before
        assert before[0] == 12
        rest = await spool.oldest(100)
        assert rest is not None
        assert rest.points == tuple(pts(8, 12))
        assert rest.id > head.id


async def test_the_file_is_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    async with Spool(path, QUOTA) as spool:
        await spool.append(pts(0, 1))
        assert spool._db is not None  # white box: synchronous is per connection
        assert list(await spool._db.execute_fetchall("PRAGMA synchronous")) == [(2,)]  # FULL
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_a_cancelled_append_leaves_the_totals_matching_the_file(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    async with Spool(path, QUOTA) as spool:
        await spool.append(pts(0, 2))
        appending = asyncio.create_task(spool.append(pts(2, 2000)))
        await asyncio.sleep(0)
        appending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await appending
        seen = (spool.depth_points, spool.depth_bytes, spool.depth_batches)
        await spool.append(pts(5000, 1))
        seen = (seen[0] + 1, seen[1] + len(encode_points(pts(5000, 1))), seen[2] + 1)
    async with Spool(path, QUOTA) as spool:
        assert (spool.depth_points, spool.depth_bytes, spool.depth_batches) == seen


async def test_a_missing_directory_is_reported_with_the_path(tmp_path: Path) -> None:
    with pytest.raises(SpoolError, match=r"no-such-dir.*does not exist"):
        async with Spool(tmp_path / "no-such-dir" / "spool.sqlite3", QUOTA):
            pass


async def test_a_directory_in_place_of_the_file_is_reported_with_the_path(tmp_path: Path) -> None:
    (tmp_path / "spool.sqlite3").mkdir()
    with pytest.raises(SpoolError, match=r"spool\.sqlite3"):
        async with Spool(tmp_path / "spool.sqlite3", QUOTA):
            pass


async def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    path.write_bytes(b"not a database at all " * 200)
    with pytest.raises(SpoolError, match=r"spool\.sqlite3 is not a spool database"):
        async with Spool(path, QUOTA):
            pass


async def test_another_programs_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE points (x)")
    with pytest.raises(SpoolError, match="not a spool database"):
        async with Spool(path, QUOTA):
            pass
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == [("points",)]


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(SpoolError, match="schema 99"):
        async with Spool(path, QUOTA):
            pass


async def test_a_second_hub_cannot_open_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    async with Spool(path, QUOTA):
        with pytest.raises(SpoolError, match="only one hub"):
            async with Spool(path, QUOTA, lock_timeout_s=0.05):
                pass


async def test_a_damaged_batch_is_reported_with_the_path(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    async with Spool(path, QUOTA) as spool:
        await spool.append(pts(0, 2))
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE spool SET payload = ?", (b"[[1, 2]]",))
    async with Spool(path, QUOTA) as spool:
        with pytest.raises(SpoolError, match=r"spool\.sqlite3: batch 1 cannot be read"):
            await spool.oldest(10)


_APPENDER = """
import asyncio, sys
from pathlib import Path
from hub.storage.base import Point
from hub.storage.spool import Spool

async def main(path):
    async with Spool(Path(path), 10**9) as spool:
        n = 0
        while True:
            size = 1 + n % 7
            await spool.append(
                [Point("m", (("k", "v" * (n % 50)),), {"n": i, "x": i / 3}, i)
                 for i in range(n, n + size)]
            )
            print(n, size, flush=True)
            n += size

asyncio.run(main(sys.argv[1]))
"""


async def test_kill_9_while_appending_loses_nothing_already_appended(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _APPENDER, str(path), cwd=REPO, stdout=asyncio.subprocess.PIPE
    )
    assert child.stdout is not None
    acknowledged = 0
    try:
        while acknowledged < 300:
            line = await asyncio.wait_for(child.stdout.readline(), timeout=30)
            assert line, "the appender died"
            first, size = map(int, line.split())
            assert first == acknowledged
            acknowledged += size
    finally:
        child.kill()
        await child.wait()

    async with Spool(path, 10**9) as spool:
        batch = await spool.oldest(10**6)
        depth = spool.depth_points
    assert batch is not None
    numbers = [p.fields["n"] for p in batch.points]
    assert numbers == list(range(len(numbers)))  # in order, no gap, no repeat
    assert len(numbers) == depth >= acknowledged
