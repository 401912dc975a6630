"""`streetwatch sim`: a simulated city, its configs, and scoring the hub against ground truth."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from simulators.city import Brokers, generate_city, write_configs
from simulators.run.brokers import BrokerError
from simulators.run.drive import ScenarioDrive
from simulators.run.session import run_scenario
from simulators.scenarios import Scenario, builtin_scenarios, load_scenario
from simulators.score import ObservedAck, ObservedIncident, ObservedPage, render_table, score
from simulators.tape.targets import TargetError
from simulators.truth import TruthLog
from streetwatch.broker import BrokerConfig
from streetwatch.config import ConfigError


@click.group(name="sim")
def group() -> None:
    """Simulators: generate a city, run a scenario against StreetWatch, score the hub."""


@group.command()
@click.option("--seed", default=1, show_default=True, help="Same seed, same city.")
@click.option("--districts", default=1, show_default=True, type=click.IntRange(1, 50))
@click.option("--streets", default=2, show_default=True, type=click.IntRange(1, 100))
@click.option("--communities", default=3, show_default=True, type=click.IntRange(1, 100))
@click.option("--gateways", default=1, show_default=True, type=click.IntRange(1, 50))
@click.option(
    "--mix",
    default="residential",
    show_default=True,
    type=click.Choice(["residential", "street", "mixed"]),
    help="Which sensors each gateway has.",
)
@click.option("--broker", default="127.0.0.1:1883", show_default=True, help="host:port for all.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
def city(
    seed: int,
    districts: int,
    streets: int,
    communities: int,
    gateways: int,
    mix: str,
    broker: str,
    out: Path,
) -> None:
    """Generate a city: a gateway.yaml per gateway and the hub's city.yaml, in --out."""
    host, _, port_text = broker.rpartition(":")
    if not host or not port_text.isdigit():
        raise click.BadParameter("use host:port, e.g. 127.0.0.1:1883", param_hint="--broker")
    port = int(port_text)
    generated = generate_city(seed, districts, streets, communities, gateways, mix)
    paths = write_configs(generated, out, Brokers(host, port, host, port))
    sensors = sum(1 for _ in generated.sensors())
    click.echo(
        f"{len(paths) - 1} gateway configs and city.yaml in {out} ({sensors} sensors, seed {seed})"
    )


@group.command(name="scenarios")
def scenarios_command() -> None:
    """List the scenarios shipped with StreetWatch."""
    table = Table("name", "duration", "title")
    for name, path in builtin_scenarios().items():
        scenario = _load_scenario(str(path))
        table.add_row(name, _minutes(scenario.duration), scenario.title)
    Console().print(table)


@group.command(name="run")
@click.option("--scenario", "name", required=True, help="A shipped scenario's name, or a file.")
@click.option("--speed", type=click.FloatRange(0.1, 10_000), help="Simulated s per real s.")
@click.option("--seed", default=1, show_default=True, help="Same seed, same run.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to keep the results (default: ./sim-runs/<scenario>-<seed>).",
)
def run_command(name: str, speed: float | None, seed: int, out: Path | None) -> None:
    """Run a scenario against a real hub and edge agents, then score the hub's incidents."""
    scenario = _load_scenario(name)
    speed = speed or scenario.speed
    out = out or Path("sim-runs") / f"{scenario.name}-{seed}"
    real = scenario.duration / speed
    click.echo(f"{scenario.name}: {_minutes(scenario.duration)} simulated at {speed:g}× "
               f"(about {real:.0f} s), seed {seed}, results in {out}")  # fmt: skip
    try:
        result = asyncio.run(run_scenario(scenario, seed, speed, out))
    except (BrokerError, TargetError) as exc:
        raise click.ClickException(str(exc)) from None
    Console().print(render_table(result.score))
    stats = result.stats
    click.echo(f"{stats.published} device messages, {stats.controls} network/power events, "
               f"{stats.lost} lost to a broker restart; playback at most {stats.lag_s:.1f} "
               f"simulated s late")  # fmt: skip
    if stats.lag_s > scenario.tick:
        click.echo(f"warning: the machine fell behind by {stats.lag_s:.0f} s at {speed:g}×; "
                   "run again with a lower --speed", err=True)  # fmt: skip


@group.command(name="drive")
@click.option("--scenario", "name", required=True, help="A shipped scenario's name, or a file.")
@click.option(
    "--broker",
    required=True,
    help="host:port of the broker the gateways read their devices from, e.g. field:1883.",
)
@click.option(
    "--speed",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.1, 10_000),
    help="Simulated s per real s. Above 1 the devices' clocks run ahead of the gateways'.",
)
@click.option(
    "--seed",
    default=1,
    show_default=True,
    help="The city's seed: the one the gateways' configs were generated with.",
)
@click.option(
    "--loop", is_flag=True, help="Start again from the new now at the end, until stopped."
)
@click.option(
    "--username",
    envvar="STREETWATCH_SIM_USERNAME",
    help="MQTT user name, if the broker wants one (or STREETWATCH_SIM_USERNAME); the password "
    "comes from STREETWATCH_SIM_PASSWORD only.",
)
@click.option("--log-level", default="INFO", show_default=True, help="DEBUG, INFO, WARNING...")
def drive_command(
    name: str,
    broker: str,
    speed: float,
    seed: int,
    loop: bool,
    username: str | None,
    log_level: str,
) -> None:
    """Play a scenario's devices into a real broker from now on, for a deployed stack.

    Gateways, hub and brokers are not started: the devices publish where real sensors would,
    with today's timestamps. Uplink cuts, power cuts, broker restarts and test alarms are
    skipped (said once each). Stop with SIGTERM or Ctrl-C.
    """
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    host, _, port_text = broker.rpartition(":")
    if not host or not port_text.isdigit():
        raise click.BadParameter("use host:port, e.g. field:1883", param_hint="--broker")
    address = BrokerConfig(
        host=host,
        port=int(port_text),
        username=username,
        password=os.environ.get("STREETWATCH_SIM_PASSWORD") or None,
    )
    scenario = _load_scenario(name)
    drive = ScenarioDrive(scenario, address, seed=seed, speed=speed, loop=loop)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_drive(drive))
    except* TargetError as group:
        raise click.ClickException(str(group.exceptions[0])) from None


async def _drive(drive: ScenarioDrive) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with drive:
        done = asyncio.ensure_future(drive.finished())
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait((done, stopped), return_when=asyncio.FIRST_COMPLETED)
        done.cancel()
        stopped.cancel()


def _load_scenario(name: str) -> Scenario:
    try:
        return load_scenario(name)
    except ConfigError as exc:
        raise click.ClickException("\n".join(str(p) for p in exc.problems)) from None


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g} min"


@group.command(name="score")
@click.option(
    "--truth",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="The scenario's ground truth (JSONL).",
)
@click.option(
    "--incidents",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="The hub's incidents as JSON: `streetwatch hub incidents --all --json`.",
)
@click.option(
    "--pages",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Pages and answers as `sim run` records them (pages.json), for the page times.",
)
@click.option("--json-out", type=click.Path(dir_okay=False, path_type=Path), help="Also write.")
def score_command(truth: Path, incidents: Path, pages: Path | None, json_out: Path | None) -> None:
    """Compare the hub's incidents with the ground truth: hits, misses, false alarms, times."""
    records = TruthLog(truth).read()
    raw = json.loads(incidents.read_text(encoding="utf-8"))
    if not isinstance(raw, list):
        raise click.BadParameter("expected a JSON list of incidents", param_hint="--incidents")
    observed = [ObservedIncident.from_hub_json(item) for item in raw]
    acks = [
        ObservedAck(
            incident_id=item["id"], t=item["acknowledged_at"], by=item.get("acknowledged_by")
        )
        for item in raw
        if item.get("acknowledged_at") is not None
    ]
    paged: list[ObservedPage] = []
    if pages is not None:
        seen = json.loads(pages.read_text(encoding="utf-8"))
        paged = [ObservedPage.model_validate(p) for p in seen.get("pages", [])]
        acks += [ObservedAck.model_validate(a) for a in seen.get("acks", [])]
    result = score(records, observed, paged, acks)
    Console().print(render_table(result))
    if json_out is not None:
        json_out.write_text(result.to_json(), encoding="utf-8")
        click.echo(f"written to {json_out}")
