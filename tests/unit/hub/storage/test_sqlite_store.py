"""The SQLite time-series store, on real files in tmp_path."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.storage.base import (
    Point,
    QueryFilter,
    Row,
    StorageError,
    StorageRejected,
    StorageUnavailable,
)
from hub.storage.config import SqliteStoreConfig
from hub.storage.sqlite_store import SqliteStore

T0 = 1_795_000_000_000
DAY = 86_400_000
REPO = Path(__file__).resolve().parents[4]


def tags(sensor: str, street: str = "huamu", **extra: str) -> tuple[tuple[str, str], ...]:
    base = {"district": "pudong", "street": street, "community": "lianyang", "sensor": sensor}
    base["gateway"] = f"gw-{street}"
    return tuple(sorted((base | extra).items()))


def reading(sensor: str, t: int, depth: float, street: str = "huamu") -> Point:
    return Point("water_level", tags(sensor, street, quality="good"), {"depth": depth}, t)


# Two streets; water levels each second, a window summary, a smoke reading and a health point.
POINTS = [
    *(reading("w1", T0 + i * 1000, float(i)) for i in range(5)),
    *(reading("w2", T0 + i * 1000 + 500, 10.0 + i, street="yangjing") for i in range(5)),
    Point("water_level_window", tags("w1"), {"depth_max": 4.0, "depth_count": 5}, T0 + 5000),
    Point("smoke", tags("s1", quality="good"), {"smoke": False, "smoke_density": 0.01}, T0),
    Point("gateway_health", (("gateway", "gw-huamu"),), {"uptime_s": 1.0, "note": "x"}, T0),
]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    async with SqliteStore(SqliteStoreConfig(retention_days=1), tmp_path) as s:
        yield s


async def everything(store: SqliteStore) -> list[Row]:
    return await store.query(QueryFilter(since_ms=0, limit=100_000))


def keys(rows: list[Row]) -> list[tuple[str, str, int]]:
    return [(r.measurement, r.tags.get("sensor", "-"), r.time_ms) for r in rows]


async def test_points_come_back_with_their_tags_and_typed_fields(store: SqliteStore) -> None:
    await store.write(POINTS)
    rows = await everything(store)
    assert len(rows) == len(POINTS)
    by_key = {(r.measurement, tuple(sorted(r.tags.items())), r.time_ms): r.fields for r in rows}
    for p in POINTS:
        fields = by_key[(p.measurement, p.tags, p.time_ms)]
        assert fields == p.fields
        assert [type(v) for v in fields.values()] == [type(v) for v in p.fields.values()]
    assert [r.time_ms for r in rows] == sorted(r.time_ms for r in rows)  # oldest first


async def test_rewriting_a_point_stores_it_once_and_merges_fields(store: SqliteStore) -> None:
    await store.write(POINTS)
    await store.write(POINTS)
    await store.write([POINTS[0], POINTS[0]])  # twice within one batch too
    assert len(await everything(store)) == len(POINTS)

    p = POINTS[0]
    await store.write([Point(p.measurement, p.tags, {"depth": 99.5, "battery": 80.0}, p.time_ms)])
    rows = await store.query(QueryFilter(since_ms=0, sensor="w1", measurement="water_level"))
    assert rows[0].fields == {"depth": 99.5, "battery": 80.0}  # as InfluxDB does: a field merge
    assert len(await everything(store)) == len(POINTS)


async def test_same_time_other_series_are_different_points(store: SqliteStore) -> None:
    p = POINTS[0]
    suspect = Point(p.measurement, tags("w1", quality="suspect"), p.fields, p.time_ms)
    await store.write([p, suspect])
    assert len(await everything(store)) == 2


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (
            QueryFilter(0, sensor="w2"),
            [("water_level", "w2", T0 + i * 1000 + 500) for i in range(5)],
        ),
        (
            QueryFilter(0, street="huamu", kind="water_level"),
            [
                *(("water_level", "w1", T0 + i * 1000) for i in range(5)),
                ("water_level_window", "w1", T0 + 5000),
            ],
        ),
        (QueryFilter(0, kind="smoke"), [("smoke", "s1", T0)]),
        (
            QueryFilter(0, measurement="water_level_window"),
            [("water_level_window", "w1", T0 + 5000)],
        ),
        (QueryFilter(0, kind="smoke", measurement="water_level"), []),
        (
            QueryFilter(0, gateway="gw-huamu", measurement="gateway_health"),
            [("gateway_health", "-", T0)],
        ),
        (QueryFilter(0, community="lianyang", district="pudong", sensor="nobody"), []),
        (
            QueryFilter(T0 + 1000, until_ms=T0 + 3000, sensor="w1"),
            [
                ("water_level", "w1", T0 + 1000),
                ("water_level", "w1", T0 + 2000),
            ],
        ),
        (QueryFilter(T0 + 4000, street="yangjing"), [("water_level", "w2", T0 + 4500)]),
        (
            QueryFilter(0, limit=2),
            [
                ("water_level", "w2", T0 + 4500),
                ("water_level_window", "w1", T0 + 5000),
            ],
        ),
        (
            QueryFilter(0, sensor="w1", limit=3),
            [
                ("water_level", "w1", T0 + 3000),
                ("water_level", "w1", T0 + 4000),
                ("water_level_window", "w1", T0 + 5000),
            ],
        ),
    ],
)
async def test_query_filters(
    store: SqliteStore, q: QueryFilter, expected: list[tuple[str, str, int]]
) -> None:
    await store.write(POINTS)
    assert keys(await store.query(q)) == expected


async def test_ids_are_data_not_sql(store: SqliteStore) -> None:
    await store.write(POINTS)
    assert await store.query(QueryFilter(0, sensor="w1' OR '1'='1")) == []


async def test_prune_deletes_only_what_is_older_than_retention(store: SqliteStore) -> None:
    await store.write(POINTS)
    # Before T0 + 2.5 s: w1 at +0, +1, +2 s; w2 at +0.5, +1.5 s; the smoke and health points.
    assert await store.prune(now_ms=T0 + DAY + 2500) == 7
    assert await store.prune(now_ms=T0 + DAY + 2500) == 0
    left = await everything(store)
    assert (len(left), left[0].time_ms) == (len(POINTS) - 7, T0 + 2500)
    await store.write(POINTS[:1])  # an emptied series is written again without trouble
    assert len(await everything(store)) == len(POINTS) - 6


async def test_a_bad_value_rejects_the_whole_batch(store: SqliteStore) -> None:
    bad = Point("water_level", tags("w9"), {"depth": float("nan")}, T0)
    with pytest.raises(StorageRejected, match="nan"):
        await store.write([*POINTS, bad])
    assert await everything(store) == []
    await store.write(POINTS)  # the store is still usable: the transaction was rolled back
    assert len(await everything(store)) == len(POINTS)


async def test_concurrent_writes_all_land(store: SqliteStore) -> None:
    batches = [[reading(f"c{b}", T0 + i, float(i)) for i in range(50)] for b in range(8)]
    await asyncio.gather(*(store.write(b) for b in batches))
    assert len(await everything(store)) == 400


@pytest.mark.parametrize("turns", [1, 2, 3, 4])
async def test_a_write_cancelled_mid_transaction_leaves_none_open(
    store: SqliteStore, turns: int
) -> None:
    """A write cancelled while its BEGIN (or a statement) runs in aiosqlite's thread, as a
    storage timeout does: the next transaction must not find one still open."""
    write = asyncio.create_task(store.write([reading("x", T0, 1.0)]))
    for _ in range(turns):
        await asyncio.sleep(0)
    write.cancel()
    with pytest.raises(asyncio.CancelledError):
        await write
    await store.write(POINTS)
    assert await store.prune(T0 + 2 * DAY) == len(POINTS)


async def test_points_survive_closing_and_reopening(tmp_path: Path) -> None:
    config = SqliteStoreConfig(path=Path("sub/store.sqlite3"))
    (tmp_path / "sub").mkdir()
    async with SqliteStore(config, tmp_path) as s:
        await s.write(POINTS)
        assert await s.ping()
    assert not await s.ping()
    async with SqliteStore(config, tmp_path) as s:
        assert len(await everything(s)) == len(POINTS)
        await s.write(POINTS)  # the series of the old file are found again, not duplicated
        assert len(await everything(s)) == len(POINTS)


WRITER = """
import asyncio, sys
from pathlib import Path
from hub.storage.base import Point
from hub.storage.config import SqliteStoreConfig
from hub.storage.sqlite_store import SqliteStore

async def main():
    async with SqliteStore(SqliteStoreConfig(), Path(sys.argv[1])) as s:
        await s.write([Point("m", (("sensor", "k"),), {"v": float(i)}, i) for i in range(1000)])
        print("written", flush=True)
        await asyncio.sleep(60)

asyncio.run(main())
"""


async def test_a_returned_write_survives_kill_9(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        WRITER,
        str(tmp_path),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert line == b"written\n"
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # our own child, by its pid
        await proc.wait()
    async with SqliteStore(SqliteStoreConfig(), tmp_path) as s:
        assert len(await everything(s)) == 1000


async def test_a_file_that_is_not_a_store_names_its_path(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    path.write_bytes(b"this is not a database, just text " * 100)
    with pytest.raises(StorageError, match=f"{path}.*damaged or not a StreetWatch store"):
        async with SqliteStore(SqliteStoreConfig(), tmp_path):
            pass


async def test_an_unopenable_path_names_it(tmp_path: Path) -> None:
    (tmp_path / "store.sqlite3").mkdir()  # a directory where the file should be
    with pytest.raises(StorageError, match=str(tmp_path / "store.sqlite3")):
        async with SqliteStore(SqliteStoreConfig(), tmp_path):
            pass
    with pytest.raises(StorageError, match="directory does not exist"):
        async with SqliteStore(SqliteStoreConfig(), tmp_path / "missing"):
            pass


async def test_using_a_closed_store_is_unavailable(tmp_path: Path) -> None:
    s = SqliteStore(SqliteStoreConfig(), tmp_path)
    with pytest.raises(StorageUnavailable, match="not open"):
        await s.write(POINTS)


async def test_a_limit_below_one_is_a_mistake(store: SqliteStore) -> None:
    with pytest.raises(ValueError, match="limit must be at least 1"):
        await store.query(QueryFilter(0, limit=0))
