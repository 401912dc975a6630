"""How fast the hub's store writer is: points per second from ``add`` to durable.

Not a test. Messages of ``--points-per-add`` points go in one ``add`` each, as the hub's intake
does, on the system clock; a point is counted when its token comes back from ``on_durable``.

* ``direct``: the backend (an in-memory list) takes every write; the spool is not used.
* ``spool``: the backend is down, so every batch goes to a SQLite spool file (WAL, FULL sync).
* ``drain``: the backend is back; points per second from that spool file into the backend.

    .venv/bin/python bench/bench_writer.py                      # 200000 points, batches of 5000
    .venv/bin/python bench/bench_writer.py --points 1000000 --batch 1000
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Self

from hub.storage.base import Point, QueryFilter, Row, StorageUnavailable
from hub.storage.config import StorageConfig
from hub.storage.spool import Spool
from hub.storage.writer import StoreWriter
from streetwatch.clock import SystemClock


class ListBackend:
    name = "list"

    def __init__(self) -> None:
        self.up = True
        self.stored = 0

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def write(self, points: Sequence[Point]) -> None:
        if not self.up:
            raise StorageUnavailable("down for the benchmark")
        self.stored += len(points)

    async def query(self, q: QueryFilter) -> list[Row]:
        return []

    async def ping(self) -> bool:
        return self.up


def _messages(points: int, per_add: int) -> list[list[Point]]:
    made = [
        Point(
            "water_level",
            (("district", "d1"), ("gateway", f"gw{n % 20}"), ("sensor", f"s{n % 500}")),
            {"cm": 12.5 + n % 100, "battery": 87, "alarm": n % 50 == 0},
            1_700_000_000_000 + n,
        )
        for n in range(points)
    ]
    return [made[at : at + per_add] for at in range(0, points, per_add)]


async def _through(
    backend: ListBackend, spool: Spool, config: StorageConfig, messages: list[list[Point]]
) -> float:
    """Seconds from the first add until every token is durable."""
    durable = 0

    async def on_durable(tokens: Sequence[int]) -> None:
        nonlocal durable
        durable += len(tokens)

    start = time.perf_counter()
    async with StoreWriter(backend, spool, config, clock=SystemClock(), on_durable=on_durable) as w:
        for token, points in enumerate(messages):
            await w.add(points, token)
        await w.flush()
        elapsed = time.perf_counter() - start
        assert durable == len(messages), (durable, len(messages))
    return elapsed


async def _drain(backend: ListBackend, spool: Spool, config: StorageConfig) -> float:
    backend.up, backend.stored = True, 0
    start = time.perf_counter()
    async with StoreWriter(backend, spool, config, clock=SystemClock(), on_durable=_ignore):
        while spool.depth_batches:  # noqa: ASYNC110 (the writer has no event for this)
            await asyncio.sleep(0.001)
    return time.perf_counter() - start


def _disk_mb(path: Path) -> float:
    """The spool file's and its write-ahead log's sizes."""
    wal = path.with_name(path.name + "-wal")
    return (path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)) / 1e6


async def _ignore(tokens: Sequence[int]) -> None:
    return None


async def bench(points: int, per_add: int, batch: int) -> list[tuple[str, float, str]]:
    config = StorageConfig(
        batch_points=batch, max_pending_points=max(50_000, 2 * batch), retry_min_s=0.01
    )
    messages = _messages(points, per_add)
    gc.freeze()  # a hub does not hold all its points at once: keep the collector off them
    results: list[tuple[str, float, str]] = []
    backend = ListBackend()
    async with Spool(None, 2**40) as spool:
        seconds = await _through(backend, spool, config, messages)
    results.append(("direct", points / seconds, "memory spool, unused"))
    with tempfile.TemporaryDirectory(prefix="bench-writer-") as tmp:
        path = Path(tmp) / "spool.sqlite3"
        async with Spool(path, 2**40) as spool:
            backend.up = False
            seconds = await _through(backend, spool, config, messages)
            notes = f"{spool.depth_bytes / 1e6:.1f} MB JSON, {_disk_mb(path):.1f} MB on disk"
            results.append(("spool", points / seconds, notes))
            seconds = await _drain(backend, spool, config)
            assert backend.stored == points, (backend.stored, points)
            results.append(("drain", points / seconds, "spool file to the backend"))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=200_000, help="points to write")
    parser.add_argument("--points-per-add", type=int, default=10, help="points per message")
    parser.add_argument("--batch", type=int, default=5000, help="storage.batch_points")
    args = parser.parse_args()

    results = asyncio.run(bench(args.points, args.points_per_add, args.batch))

    print(
        f"{args.points} points, {args.points_per_add} per add, batches of {args.batch}"
        " (in-memory backend)"
    )
    print(f"{'path':<8} {'points/s':>12}  notes")
    for name, rate, notes in results:
        print(f"{name:<8} {rate:>12,.0f}  {notes}")


if __name__ == "__main__":
    main()
