"""Load-generator payload plugin: the harness's own batched shape, built as cheaply as ours.

The same JSON as ``benchlib/workload.py``'s ``batch_payload`` (which the DIY bridges parse), made
from cached pieces like ``sw_payload.py``, so that in one run both sides get a load generator
of the same cost and compete for the same CPU.
"""

from __future__ import annotations

import math

TOPIC_BATCH = "bench/{gateway}/batch"
WAVE = 64

_pieces: dict[tuple[int, int], list[str]] = {}


def gateway_id(gw: int) -> str:
    return f"gw{gw:03d}"


def sensor_id(gw: int, s: int) -> str:
    return f"gw{gw:03d}-s{s:03d}"


def _readings(gw: int, s: int) -> list[str]:
    key = (gw, s)
    pieces = _pieces.get(key)
    if pieces is None:
        head = f'{{"sensor_id":"{sensor_id(gw, s)}","type":"water_level","value":'
        pieces = [f"{head}{1.5 + 0.5 * math.sin(i * 0.1 + s + gw):.3f}}}" for i in range(WAVE)]
        _pieces[key] = pieces
    return pieces


def batch_payload(gw: int, sensors: range, tick: int, ts: float) -> bytes:
    readings = ",".join([_readings(gw, s)[tick % WAVE] for s in sensors])
    return f'{{"gateway":"{gateway_id(gw)}","ts":{ts:.6f},"readings":[{readings}]}}'.encode()
