"""`streetwatch sim`: a simulated city, its configs, and scoring the hub against ground truth."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from simulators.city import Brokers, generate_city, write_configs
from simulators.run.brokers import BrokerError
from simulators.run.session import run_scenario
from simulators.scenarios import Scenario, builtin_scenarios, load_scenario
from simulators.score import ObservedAck, ObservedIncident, ObservedPage, render_table, score
from simulators.tape.targets import TargetError
from simulators.truth import TruthLog
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
