"""Load-generator payload plugin: StreetWatch telemetry batches as a gateway's agent sends them.

Imported by the baselines' ``loadgen.py`` (``--payload sw_payload``, with this folder on
``PYTHONPATH``), which runs in the harness's own venv: so plain Python, no StreetWatch import.
The messages follow ``streetwatch.messages.TelemetryBatch`` (schema v1); the hub validates them
like any other, so a mistake here shows up as rejections, not as speed.

Gateway ``gw`` sits alone on street ``st{gw}`` (so the sharding bench can split streets over
hubs), its sensors are water-level gauges ``gw003-s017`` reporting ``depth`` in mm. Each batch has
its gateway's next sequence number (the loadgen's tick); each reading its own millisecond: the
publish time, pushed one ms on when two ticks of a gateway fall in the same ms, so no reading
overwrites another in the database.
"""

from __future__ import annotations

import math
import os

DISTRICT = os.environ.get("SW_BENCH_DISTRICT", "bench")
TOPIC_BATCH = "sw/v1/" + DISTRICT + "/st{gw}/{gateway}/data"
KIND = "water_level"
WAVE = 64  # each gauge cycles through this many precomputed depths

_last_ms: dict[int, int] = {}
_reading_heads: dict[tuple[int, int], str] = {}
_depths: dict[tuple[int, int], list[str]] = {}


def gateway_id(gw: int) -> str:
    return f"gw{gw:03d}"


def sensor_id(gw: int, s: int) -> str:
    return f"gw{gw:03d}-s{s:03d}"


def boot_id(gw: int) -> str:
    return f"b0075{gw:04x}"


def _gauge(gw: int, s: int) -> tuple[str, list[str]]:
    key = (gw, s)
    head = _reading_heads.get(key)
    if head is None:
        head = f'{{"sensor":"{sensor_id(gw, s)}","kind":"{KIND}","t":'
        _reading_heads[key] = head
        # a slowly moving water depth in mm, one decimal like a real gauge
        _depths[key] = [f"{150.0 + 50.0 * math.sin(i * 0.1 + s + gw):.1f}" for i in range(WAVE)]
    return head, _depths[key]


def batch_payload(gw: int, sensors: range, tick: int, ts: float) -> bytes:
    # Built from cached pieces: a generator that spends 300 us per message (json.dumps of 50
    # dicts) would take the cores the hub is being measured on.
    sent = int(ts * 1000)
    t = max(sent, _last_ms.get(gw, -1) + 1)
    _last_ms[gw] = t
    parts = []
    for s in sensors:
        head, depths = _gauge(gw, s)
        parts.append(f'{head}{t},"values":{{"depth":{depths[tick % WAVE]}}}}}')
    return (
        f'{{"v":1,"msg":"telemetry","gateway":"{gateway_id(gw)}","boot":"{boot_id(gw)}",'
        f'"seq":{tick},"sent":{sent},"readings":[{",".join(parts)}]}}'
    ).encode()
