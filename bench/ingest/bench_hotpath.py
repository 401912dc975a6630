"""The hub's per-reading ingest work, stage by stage, in one process: µs per message, per reading.

Not a test. Feeds the load generator's own telemetry batches (``sw_payload.py``: 50 water-level
readings per message) through each stage the hub runs per message, best of ``--repeat``:

* ``decode (models)``: ``streetwatch.codec.decode_channel``, the shared pydantic models;
* ``decode (fast)``: ``streetwatch.fast_telemetry.decode_readings``, the hub's hot path;
* ``points``: ``hub.storage.schema.telemetry_points``;
* ``line protocol``: ``hub.storage.lineprotocol.encode_lines``.

    .venv/bin/python bench/ingest/bench_hotpath.py
"""

from __future__ import annotations

import argparse
import sys
import timeit
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sw_payload

from hub.storage.lineprotocol import encode_lines
from hub.storage.schema import Origin, telemetry_points
from streetwatch.codec import decode_channel
from streetwatch.fast_telemetry import decode_readings
from streetwatch.location import Area
from streetwatch.topics import Channel

PER_MESSAGE = 50


def measure(name: str, stage: Callable[[Any], object], inputs: Sequence[Any], repeat: int) -> float:
    best = min(timeit.repeat(lambda: [stage(m) for m in inputs], number=1, repeat=repeat))
    per_message = best / len(inputs) * 1e6
    print(f"{name:18s} {per_message:8.1f} µs/message {per_message / PER_MESSAGE:6.2f} µs/reading")
    return per_message


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--messages", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    payloads = [
        sw_payload.batch_payload(3, range(PER_MESSAGE), tick, 1.7e9 + tick * 0.05)
        for tick in range(args.messages)
    ]
    origin = Origin(Area(district="bench", street="st3", community="c3"), "gw003")
    repeat = args.repeat
    models = measure("decode (models)", lambda p: decode_channel(p, Channel.DATA), payloads, repeat)
    fast = measure("decode (fast)", decode_readings, payloads, args.repeat)
    batches = [decode_readings(p) for p in payloads]
    assert all(b is not None for b in batches), "the fast decoder refused the generator's batches"
    points = measure("points", lambda b: telemetry_points(b, origin), batches, args.repeat)
    lines = [telemetry_points(b, origin) for b in batches]  # type: ignore[arg-type]
    encode = measure("line protocol", encode_lines, lines, args.repeat)
    total = fast + points + encode
    print(
        f"{'hot path':18s} {total:8.1f} µs/message {total / PER_MESSAGE:6.2f} µs/reading"
        f"  (decode with the models instead: {models / fast:.1f}x the decode)"
    )


if __name__ == "__main__":
    main()
