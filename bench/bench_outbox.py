"""How fast the outboxes are: adds per second and take+confirm per second, and the file's size.

Not a test. Records of ~3 KB go in and out in batches of 50, as a gateway's sender does:

    .venv/bin/python bench/bench_outbox.py                 # 20000 records, synchronous=FULL
    .venv/bin/python bench/bench_outbox.py --records 100000 --synchronous NORMAL
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edge.outbox import Lane, MemoryOutbox, NewRecord, Outbox, SqliteOutbox

BOOT = "be7c4b00"


@dataclass(frozen=True)
class Result:
    name: str
    adds_per_s: float
    drains_per_s: float
    disk: tuple[int, int] | None
    """The database file's and its write-ahead log's sizes after the adds."""


def _records(count: int, payload_bytes: int, seed: int) -> list[NewRecord]:
    rng = random.Random(seed)
    return [
        NewRecord(Lane.TELEMETRY, "data", BOOT, seq, rng.randbytes(payload_bytes), seq)
        for seq in range(count)
    ]


def _disk(path: Path) -> tuple[int, int]:
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size, wal.stat().st_size if wal.exists() else 0


async def _run(
    name: str,
    box: Outbox,
    records: list[NewRecord],
    batch: int,
    disk: Callable[[], tuple[int, int]] | None,
) -> Result:
    async with box:
        start = time.perf_counter()
        for at in range(0, len(records), batch):
            await box.add_many(records[at : at + batch])
        added = time.perf_counter() - start
        size = disk() if disk else None

        start = time.perf_counter()
        drained = 0
        now_ms = 0
        while taken := await box.take(batch, now_ms=now_ms, resend_after_ms=60_000):
            seqs = [r.seq for r in taken]
            drained += await box.confirm(BOOT, "data", [(min(seqs), max(seqs))])
            now_ms += 1
        confirmed = time.perf_counter() - start
        assert drained == len(records), (drained, len(records))
    return Result(name, len(records) / added, drained / confirmed, size)


async def bench(records: int, payload_bytes: int, batch: int, synchronous: str) -> list[Result]:
    data = _records(records, payload_bytes, seed=1)
    quota = records * payload_bytes * 2
    results = [await _run("memory", MemoryOutbox(quota_bytes=quota), data, batch, None)]
    with tempfile.TemporaryDirectory(prefix="bench-outbox-") as tmp:
        path = Path(tmp) / "outbox.db"
        box = SqliteOutbox(path, quota_bytes=quota, synchronous=synchronous)
        results.append(await _run(f"sqlite ({synchronous})", box, data, batch, lambda: _disk(path)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000, help="records to add and drain")
    parser.add_argument("--payload-bytes", type=int, default=3000, help="size of each payload")
    parser.add_argument("--batch", type=int, default=50, help="records per add_many and take")
    parser.add_argument(
        "--synchronous", default="FULL", choices=["FULL", "NORMAL", "OFF"], help="SQLite mode"
    )
    args = parser.parse_args()

    results = asyncio.run(bench(args.records, args.payload_bytes, args.batch, args.synchronous))

    stored_mb = args.records * args.payload_bytes / 1e6
    print(
        f"{args.records} records of {args.payload_bytes} B ({stored_mb:.1f} MB of payload),"
        f" batches of {args.batch}"
    )
    print(f"{'outbox':<16} {'adds/s':>10} {'take+confirm/s':>15}  on disk after the adds")
    for r in results:
        disk = f"{r.disk[0] / 1e6:.1f} MB + {r.disk[1] / 1e6:.1f} MB WAL" if r.disk else "-"
        print(f"{r.name:<16} {r.adds_per_s:>10,.0f} {r.drains_per_s:>15,.0f}  {disk}")


if __name__ == "__main__":
    main()
