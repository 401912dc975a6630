"""What bench_alarm_latency.py prints: percentiles per level and alarm, where the time goes,
the background achieved, the CPU of each process; and ``--dump``'s raw stamps."""

from __future__ import annotations

import argparse
import json
import math
import os
import re
from pathlib import Path

from _alarm_probes import Alarm, Probes

from edge.config import DetectionConfig

Level = tuple[float, dict[str, list[Alarm]], dict[str, float], float]
"""(multiplier, alarms by kind, CPU share by process, wall seconds) of one load level."""


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least ``q`` % of the values at or below it."""
    ranked = sorted(values)
    return ranked[max(0, math.ceil(q / 100 * len(ranked)) - 1)]


def level_name(multiplier: float) -> str:
    names = {0.0: "idle", 1.0: "normal"}
    return names.get(multiplier, f"{multiplier:g}x normal")


def row(label: str, alarms: list[Alarm], debounced: bool = False) -> str:
    if not alarms:
        return f"  {label:<34} {0:>4}"
    ms = [a.total_ms for a in alarms] if debounced else [a.processing_ms for a in alarms]
    edge = [a.edge_ms for a in alarms if a.edge_ms is not None]
    hub = [a.hub_ms for a in alarms if a.hub_ms is not None]
    cells = " ".join(f"{percentile(ms, q):>7.1f}" for q in (50, 95, 99, 100))
    parts = (
        f"{percentile(edge, 50):>6.1f} {percentile(edge, 99):>6.1f}" if edge else " " * 13,
        f"{percentile(hub, 50):>6.1f} {percentile(hub, 99):>6.1f}" if hub else " " * 13,
    )
    return f"  {label:<34} {len(ms):>4} {cells}  | {parts[0]} | {parts[1]}"


def dump(path: Path, results: list[Level], debounced: list[Alarm]) -> None:
    """Every measured alarm's stamps, one JSON object a line."""
    records = [
        alarm.record(level_name(multiplier), kind)
        for multiplier, alarms, _, _ in results
        for kind, of_kind in alarms.items()
        for alarm in of_kind
    ]
    records += [alarm.record(level_name(results[0][0]), "gas-debounced") for alarm in debounced]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def breakdown(alarms: list[Alarm]) -> list[str]:
    if not alarms:
        return []
    slowest = sorted(alarms, key=lambda a: a.processing_ms)[-max(1, len(alarms) // 20) :]
    lines = []
    for part in alarms[0].stages_ms():
        values = [v for a in alarms if (v := a.stages_ms()[part]) is not None]
        tail = [v for a in slowest if (v := a.stages_ms()[part]) is not None]
        if values:
            mean = sum(tail) / len(tail) if tail else math.nan
            lines.append(
                f"{part:<18} {percentile(values, 50):>7.1f} {percentile(values, 99):>7.1f} "
                f"{mean:>7.1f}"
            )
    total = sum(a.processing_ms for a in slowest) / len(slowest)
    lines.append(f"{'whole path':<18} {'':>7} {'':>7} {total:>7.1f}")
    return lines


def report(
    args: argparse.Namespace,
    results: list[Level],
    debounced: list[Alarm],
    missed: list[str],
    background_log: Path,
    probes: Probes,
    tmp: Path,
    load_before: tuple[float, float, float],
) -> None:
    shipped = DetectionConfig()
    print()
    nagle = "set_tcp_nodelay true" if args.broker_nodelay else "Mosquitto's default, Nagle on"
    print(f"Brokers: {nagle}. Hub and edge: shipped defaults but for bench/_alarm_stack.py's list.")
    print("Alarm latency: device publish on the field broker → page at the webhook receiver, ms")
    print("(edge: publish → event on the uplink broker; hub: that → page received)")
    header = f"  {'level / alarm':<34} {'n':>4} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}"
    print(f"{header}  | edge p50    p99 | hub p50     p99")
    for multiplier, alarms, _, _ in results:
        print(level_name(multiplier))
        print(row("smoke flag (shipped defaults)", alarms["smoke"]))
        print(row("gas %LEL, raise_samples=1", alarms["gas"]))
        print(row("all", alarms["smoke"] + alarms["gas"]))
    if debounced:
        print(
            f"{level_name(results[0][0])}, gas %LEL with the shipped raise_samples="
            f"{shipped.raise_samples}, the device's next report {args.report_gap_s:g} s later"
        )
        print(row("from its first report (shipped)", debounced, debounced=True))
        print(row("from the report it raises on", debounced))
    print()
    print("Where the time goes, all alarms of a level (ms): p50, p99, and the mean over the")
    print("slowest 5 % of the alarms (what their tail is made of)")
    for multiplier, alarms, _, _ in results:
        print(f"  {level_name(multiplier)}")
        for line in breakdown(alarms["smoke"] + alarms["gas"]):
            print(f"    {line}")
    print()
    print("Background (achieved; the virtual gateways' own count):")
    phases = re.findall(
        r"PHASE multiplier=(\S+) seconds=(\S+) messages=(\d+) readings=(\d+) unconfirmed=(\d+)"
        r" births=(\d+)",
        background_log.read_text(),
    )
    for m, seconds, messages, readings, unconfirmed, births in phases:
        s = float(seconds)
        print(
            f"  {level_name(float(m)):<12} {int(messages) / s:>7.1f} messages/s "
            f"{int(readings) / s:>7.1f} readings/s over {s:.0f} s, "
            f"{unconfirmed} not yet confirmed by the hub at the end"
            + (f", {births} re-registrations (reboots)" if int(births) else "")
        )
    print()
    print("CPU while the alarms were measured (% of one core):")
    names = list(results[0][2])
    print(f"  {'level':<12} {'wall s':>7} " + " ".join(f"{n:>14}" for n in names))
    for multiplier, _, used, wall in results:
        cells = " ".join(f"{100 * used[n]:>14.0f}" for n in names)
        print(f"  {level_name(multiplier):<12} {wall:>7.1f} {cells}")
    print()
    load = os.getloadavg()
    print(
        f"{os.cpu_count()} CPUs; load average {load_before[0]:.2f} before, {load[0]:.2f} after; "
        f"missed pages (timeout {args.timeout_s:g} s): {len(missed)} {missed[:5]}; "
        f"other pages: {probes.other_pages}"
    )
