"""Alarm latency (issue #8): from a device's alarm to the page a responder's webhook receives.

Not a test. The whole real path on this machine, every part on 127.0.0.1 (bench/_alarm_stack.py):
a simulated Zigbee2MQTT detector publishes on the gateway's field Mosquitto; the real edge agent
(`streetwatch edge run`, a process of its own as in production) detects the alarm, stores the
event in its SQLite outbox and sends it; the uplink Mosquitto carries it to the real hub
(`streetwatch hub run`), which opens an incident and pages the community's grid worker through
the webhook channel; an HTTP receiver in this process stamps the page on arrival. Latency is
device publish → page received, both stamped with this process's ``time.time()``. The hub's own
stamps in the page (bench/_alarm_probes.py) split its part into intake, incident engine and
escalator, and the webhook's HTTP request.

Every alarm is a real page: each sensor sits in a building of its own, so its alarm opens an
incident of its own (fire and gas incidents group per building), at orange, which pages at
once. Once paged, the benchmark resolves the incident through the hub's API and the device
clears; the sensor's next alarm reopens the incident, and that pages again.

Alarms, one at a time, alternating:

* ``smoke flag``: the detector sets ``smoke: true``. The kind's flag rule raises orange with no
  persistence, so with the shipped defaults this path has no deliberate delay at all.
* ``gas %LEL``: 30 %LEL, over the orange threshold (25), on sensors configured to raise on one
  sample: the processing latency with the edge's debounce set to zero.
* ``gas %LEL, shipped debounce`` (at the first level only): the shipped ``raise_samples`` (2)
  raises at the device's second report over the line. Measured from its first report (the
  latency an operator sees, which includes the device's report gap) and from the second.

Background: "normal" is one street of DOMAIN.md's planning city (a million sensors reporting
once a minute over a few hundred streets: ~3,300 sensors a street), behind gateways of 12
sensors (the simulator's residential mix): 280 gateways, each sending what an edge agent sends
in normal times, one telemetry batch and one health message a minute: 9.3 messages/s and 56
readings/s into the street hub. 10x sends both ten times as often. The virtual gateways
(bench/_background.py, tests/support/fleet.py's wire protocol) are their own process.

The brokers run as tests/support/services.py configures them, which, like
deploy/mosquitto/streetwatch-hub.conf, leaves Mosquitto's ``set_tcp_nodelay`` off (Nagle's
algorithm on). ``--broker-nodelay`` turns it on for both, to measure what that costs.
``--profile`` runs hub and edge under cProfile and prints where their CPU went; ``--dump``
writes every alarm's stamps as JSON lines.

    .venv/bin/python bench/bench_alarm_latency.py                    # 200 alarms per level
    .venv/bin/python bench/bench_alarm_latency.py --broker-nodelay
    .venv/bin/python bench/bench_alarm_latency.py --samples 400 --multipliers 0,1,10,20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path

import aiomqtt
import httpx
from _alarm_probes import Alarm, Device, Probes, Values
from _alarm_profile import summary
from _alarm_report import Level, dump, report
from _alarm_stack import AlarmSensor, AlarmStack, sensor_pool
from _support import HttpReceiver

ALARM: dict[str, Values] = {"smoke": {"smoke": True}, "gas": {"lel": 30.0}}
CLEAR: dict[str, Values] = {"smoke": {"smoke": False}, "gas": {"lel": 0.0}}
WARM_UP = 2  # alarms of each kind, not counted: the path's first use (connections, caches)
CLK_TCK = os.sysconf("SC_CLK_TCK")


class Runner:
    """Fires the alarms, one at a time, and keeps the ones that were paged."""

    def __init__(
        self,
        probes: Probes,
        device: Device,
        http: httpx.AsyncClient,
        stack: AlarmStack,
        args: argparse.Namespace,
    ) -> None:
        self.probes = probes
        self.device = device
        self.http = http
        self.stack = stack
        self.args = args
        self.missed: list[str] = []
        self._used = 0

    def _sensor(self, prefix: str, index: int) -> AlarmSensor:
        return next(s for s in self.stack.sensors if s.id == f"{prefix}-{index:02d}")

    async def one(self, sensor: AlarmSensor, gap_s: float = 0.0) -> Alarm | None:
        """Raise, wait for the page, resolve, clear. ``gap_s`` > 0: the alarm value twice, and
        no clear (the shipped debounce clears only after a minute: such a sensor is used once).
        """
        alarm = self.probes.expect(sensor.id)
        alarm.published = alarm.crossing = await self.device.publish(sensor, ALARM[sensor.kind])
        if gap_s:
            await asyncio.sleep(gap_s)  # the device's next report
            alarm.crossing = await self.device.publish(sensor, ALARM[sensor.kind])
        try:
            await asyncio.wait_for(alarm.paged.wait(), self.args.timeout_s)
        except TimeoutError:
            self.missed.append(sensor.id)
            return None
        finally:
            self.probes.done(alarm)
        assert alarm.incident is not None
        answer = await self.http.post(
            f"{self.stack.api_url}/incidents/{alarm.incident}/resolve",
            headers={"Authorization": f"Bearer {self.stack.admin_token}"},
        )
        answer.raise_for_status()
        if not gap_s:
            cleared = self.probes.expect_clear(sensor.id)
            await self.device.publish(sensor, CLEAR[sensor.kind])
            await asyncio.wait_for(cleared.wait(), self.args.timeout_s)
        await asyncio.sleep(self.args.pause_s)
        return alarm

    async def alternating(self, count: int) -> dict[str, list[Alarm]]:
        """``count`` alarms, smoke and gas in turn, each sensor of the pools in turn."""
        out: dict[str, list[Alarm]] = {"smoke": [], "gas": []}
        for _ in range(count):
            kind = "smoke" if self._used % 2 == 0 else "gas"
            sensor = self._sensor(kind, (self._used // 2) % self.args.pool)
            self._used += 1
            alarm = await self.one(sensor)
            if alarm is not None:
                out[kind].append(alarm)
        return out

    async def debounced(self, count: int, gap_s: float) -> list[Alarm]:
        out = []
        for i in range(count):
            alarm = await self.one(self._sensor("gasd", i), gap_s)
            if alarm is not None:
                out.append(alarm)
        return out


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


async def run(args: argparse.Namespace) -> None:
    multipliers = [float(m) for m in args.multipliers.split(",")]
    sensors = sensor_pool(args.pool, args.pool, args.debounce_samples)
    probes = Probes()
    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="bench-alarm-"))
    print(f"run directory {tmp}; load average {load_before[0]:.2f} before", flush=True)
    async with (
        HttpReceiver(respond=probes.on_page) as receiver,
        AlarmStack(
            tmp,
            sensors,
            receiver.url("/page"),
            profile=args.profile,
            broker_nodelay=args.broker_nodelay,
        ) as stack,
        aiomqtt.Client(stack.field_broker.host, stack.field_broker.port) as field_client,
        aiomqtt.Client(stack.uplink.host, stack.uplink.port) as tap_client,
        httpx.AsyncClient(trust_env=False, timeout=10) as http,
    ):
        tap = asyncio.create_task(probes.tap(tap_client), name="tap")
        try:
            measured = await measure(args, multipliers, probes, stack, field_client, http)
        finally:
            tap.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await tap
    report(args, *measured, probes, tmp, load_before)
    if args.dump is not None:
        dump(args.dump, measured[0], measured[1])
    if args.profile:
        for name, path in stack.profiles().items():
            print(f"\nProfile of the {name} process over the whole run (cProfile):")
            print("\n".join(summary(path)))
    if not args.keep:
        shutil.rmtree(tmp)


async def measure(
    args: argparse.Namespace,
    multipliers: list[float],
    probes: Probes,
    stack: AlarmStack,
    field_client: aiomqtt.Client,
    http: httpx.AsyncClient,
) -> tuple[list[Level], list[Alarm], list[str], Path]:
    """Warm up, then each level in turn; the debounced alarms after the first level."""
    started = time.monotonic()
    background = await asyncio.to_thread(
        stack.background, args.gateways, args.sensors, multipliers, args.reboot_every_s
    )
    took = time.monotonic() - started
    print(f"{args.gateways} background gateways registered in {took:.1f} s", flush=True)
    runner = Runner(probes, Device(field_client), http, stack, args)
    await runner.alternating(2 * WARM_UP)
    runner.missed.clear()
    results = []
    debounced: list[Alarm] = []
    for i, multiplier in enumerate(multipliers):
        if i:
            stack.next_phase(background)
        await asyncio.sleep(args.settle_s)  # the background reaches its rate
        pids = stack.pids()
        cpu = {name: cpu_seconds(pid) for name, pid in pids.items()}
        wall = time.monotonic()
        alarms = await runner.alternating(args.samples)
        wall = time.monotonic() - wall
        used = {name: (cpu_seconds(pid) - cpu[name]) / wall for name, pid in pids.items()}
        results.append((multiplier, alarms, used, wall))
        if i == 0 and args.debounce_samples:
            debounced = await runner.debounced(args.debounce_samples, args.report_gap_s)
    await asyncio.to_thread(background.stop)
    return results, debounced, runner.missed, background.log_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=200, help="alarms per load level")
    parser.add_argument(
        "--multipliers", default="0,1,10", help="background levels, x normal (0: idle)"
    )
    parser.add_argument("--gateways", type=int, default=280, help="background gateways")
    parser.add_argument("--sensors", type=int, default=12, help="sensors per background gateway")
    parser.add_argument(
        "--reboot-every-s",
        type=float,
        default=0.0,
        help="the background street's gateways all reboot and re-register this often (0: never)",
    )
    parser.add_argument("--pool", type=int, default=10, help="alarm sensors of each kind")
    parser.add_argument(
        "--debounce-samples", type=int, default=20, help="alarms under the shipped debounce"
    )
    parser.add_argument(
        "--report-gap-s", type=float, default=1.0, help="device report gap under the debounce"
    )
    parser.add_argument("--settle-s", type=float, default=5.0, help="wait after a load change")
    parser.add_argument("--pause-s", type=float, default=0.05, help="pause between alarms")
    parser.add_argument("--timeout-s", type=float, default=10.0, help="longest wait for a page")
    parser.add_argument("--keep", action="store_true", help="keep the run directory (logs)")
    parser.add_argument("--dump", type=Path, help="write every alarm's stamps here (JSON lines)")
    parser.add_argument(
        "--profile", action="store_true", help="run hub and edge under cProfile, print where"
    )
    parser.add_argument(
        "--broker-nodelay",
        action="store_true",
        help="both brokers with set_tcp_nodelay true (not in deploy/mosquitto; see the report)",
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
