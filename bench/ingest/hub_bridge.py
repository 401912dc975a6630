"""The StreetWatch hub as the baselines harness's "bridge": ``bench_e2e.py`` starts this per step.

One process per hub (``--shards N`` starts N of them, each owning every N-th street, and waits for
all). Each hub is the real ``hub.service.Hub`` with a fresh state directory, writing to InfluxDB
1.x (database ``--database``) or to VictoriaMetrics through the v2 write API. The city has one
street per load-generator gateway (``st0``, ``st1``, ...) in district ``--district``; before
saying ``READY`` each hub publishes its gateways' births (as their edge agents would at boot)
and waits until it has registered them all, so no reading of the run is deferred.

``--latency-out FILE``: on exit, a JSON ``{"lat_ms": [...]}`` of publish (the batch's ``sent``)
to durable (the database acknowledged the write), one entry per reading, as the harness's DIY
bridges record it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiomqtt
import orjson

from hub.config import HubConfig
from hub.ingest.intake import Handover
from hub.service import Hub
from streetwatch import gc_tuning
from streetwatch.codec import encode
from streetwatch.location import Area
from streetwatch.messages import GatewayState, SensorInfo
from streetwatch.topics import Channel, TopicTree

KIND = "water_level"


def gateway_id(gw: int) -> str:  # as sw_payload.py names them
    return f"gw{gw:03d}"


def sensor_id(gw: int, s: int) -> str:
    return f"gw{gw:03d}-s{s:03d}"


def boot_id(gw: int) -> str:
    return f"b0075{gw:04x}"


def owned(args: argparse.Namespace) -> list[int]:
    return [gw for gw in range(args.gateways) if gw % args.shards == args.shard]


def city(args: argparse.Namespace) -> dict[str, Any]:
    def place(id: str) -> dict[str, str]:
        return {"id": id, "zh": id, "en": id}

    streets = [place(f"st{gw}") | {"communities": [place(f"c{gw}")]} for gw in range(args.gateways)]
    return {"districts": [place(args.district) | {"streets": streets}]}


def hub_config(args: argparse.Namespace, state_dir: Path) -> HubConfig:
    if args.tsdb == "influx1":
        storage: dict[str, Any] = {
            "backend": "influxdb_v1",
            "influxdb_v1": {
                "url": f"http://127.0.0.1:{args.influx_port}",
                "database": args.database,
            },
        }
    else:
        storage = {
            "backend": "influxdb_v2",
            "influxdb_v2": {"url": f"http://127.0.0.1:{args.vm_port}", "bucket": args.database},
        }
    if args.batch_points is not None:  # else the shipped defaults
        storage["batch_points"] = args.batch_points
    if args.flush_interval_s is not None:
        storage["flush_interval_s"] = args.flush_interval_s
    shards = [f"{args.district}/st{gw}" for gw in owned(args)]
    return HubConfig.model_validate(
        {
            "hub": {"id": f"bench-{os.getpid()}", "state_dir": str(state_dir)},
            "mqtt": {"host": "127.0.0.1", "port": args.mqtt_port, "shards": shards},
            "storage": storage,
            "api": {"port": 0},
            "city": city(args),
        }
    )


def birth(args: argparse.Namespace, gw: int) -> GatewayState:
    sensors = tuple(
        SensorInfo(id=sensor_id(gw, s), kind=KIND, report_interval_s=1, offline_after_s=600)
        for s in range(args.sensors)
    )
    area = Area(district=args.district, street=f"st{gw}", community=f"c{gw}")
    now = int(time.time() * 1000)
    return GatewayState(
        gateway=gateway_id(gw), area=area, online=True, boot=boot_id(gw), t=now, sensors=sensors
    )


def record_latency(hub: Hub, samples: list[float]) -> None:
    """Wrap the intake's on_durable: publish (``sent``) to durable, per reading."""
    on_durable = hub.intake.on_durable

    async def timed(handovers: Sequence[Handover]) -> None:
        now = time.time() * 1000
        for h in handovers:
            if h.incoming is not None and h.incoming.topic.endswith("/data"):
                message = orjson.loads(h.incoming.payload)
                samples.extend([now - message["sent"]] * len(message["readings"]))
        await on_durable(handovers)

    hub.intake.on_durable = timed  # type: ignore[method-assign]


async def run_one(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    samples: list[float] = []
    with tempfile.TemporaryDirectory(prefix="sw-bench-hub-") as state:
        config = hub_config(args, Path(state))
        async with Hub(config, base_dir=Path(state)) as hub:
            await hub.link.connected.wait()
            if args.latency_out:
                record_latency(hub, samples)
            tree = TopicTree()
            async with aiomqtt.Client(
                "127.0.0.1", args.mqtt_port, identifier=f"births-{os.getpid()}"
            ) as c:
                for gw in owned(args):
                    topic = tree.gateway(args.district, f"st{gw}", gateway_id(gw), Channel.STATE)
                    await c.publish(topic, encode(birth(args, gw)), qos=1)
            while any(hub.registry.get(gateway_id(gw)) is None for gw in owned(args)):  # noqa: ASYNC110 (the registry has no event to wait on)
                await asyncio.sleep(0.05)
            gc_tuning.tune()  # as `streetwatch hub run` does
            print("READY", flush=True)
            await stop.wait()
            counters = {f"{what}:{reason}": n for what, reason, n in hub.counters.items()}
    write_results(args, counters, samples)


def write_results(args: argparse.Namespace, counters: dict[str, int], samples: list[float]) -> None:
    if args.stats_out:
        Path(shard_file(args, args.stats_out)).write_text(json.dumps(counters))
    if args.latency_out:
        Path(shard_file(args, args.latency_out)).write_text(json.dumps({"lat_ms": samples}))


def shard_file(args: argparse.Namespace, path: str) -> str:
    return path if args.shards == 1 else f"{path}.{args.shard}"


def run_shards(args: argparse.Namespace) -> int:
    """Start one child per shard, say READY when all are, pass SIGTERM on, merge latencies."""
    children = []
    for shard in range(args.shards):
        argv = [sys.executable, __file__, *sys.argv[1:], "--shard", str(shard)]
        children.append(subprocess.Popen(argv, stdout=subprocess.PIPE, text=True))
    for child in children:
        assert child.stdout is not None
        for line in child.stdout:
            if line.strip() == "READY":
                break
    print("READY", flush=True)
    done = {"stop": False}

    def forward(signum: int, frame: object) -> None:
        done["stop"] = True
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    codes = [child.wait() for child in children]
    if args.latency_out:
        merged: list[float] = []
        for shard in range(args.shards):
            part = Path(f"{args.latency_out}.{shard}")
            if part.exists():
                merged += json.loads(part.read_text())["lat_ms"]
        Path(args.latency_out).write_text(json.dumps({"lat_ms": merged}))
    return max(codes)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mqtt-port", type=int, required=True)
    ap.add_argument("--tsdb", choices=["influx1", "vm"], default="influx1")
    ap.add_argument("--influx-port", type=int, default=18086)
    ap.add_argument("--vm-port", type=int, default=18428)
    ap.add_argument("--database", required=True, help="InfluxDB database / v2 bucket")
    ap.add_argument("--district", default="bench")
    ap.add_argument("--gateways", type=int, default=20)
    ap.add_argument("--sensors", type=int, default=50)
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--shard", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--batch-points", type=int, default=None, help="storage.batch_points")
    ap.add_argument("--flush-interval-s", type=float, default=None, help="storage.flush_interval_s")
    ap.add_argument("--latency-out", default="")
    ap.add_argument("--stats-out", default="")
    ap.add_argument("--log-level", default="WARNING")
    ap.add_argument("--profile", default="", help="write a cProfile of the hub process here")
    args = ap.parse_args()
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.shard is None:
        if args.shards > 1:
            return run_shards(args)
        args.shard = 0
    profile = cProfile.Profile() if args.profile else None
    if profile is not None:
        profile.enable()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_one(args))
    if profile is not None:
        profile.disable()
        profile.dump_stats(shard_file(args, args.profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
