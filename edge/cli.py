"""`streetwatch edge`: the community gateway agent and the installer's commands."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from edge.agent import EdgeAgent
from edge.config import GatewayConfig
from edge.control import request
from edge.discover_cli import command as discover_command
from edge.outbox import OutboxError
from streetwatch import gc_tuning
from streetwatch.check_config import check_config_command, load_or_exit
from streetwatch.config import ConfigError, load_config

log = logging.getLogger("streetwatch.edge")

CONFIG_OPTION = click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("gateway.yaml"),
    show_default=True,
    help="The gateway's config file.",
)


def _describe(config: GatewayConfig) -> list[str]:
    g = config.gateway
    lines = [
        f"gateway {g.id} in {g.area.district}/{g.area.street}/{g.area.community}",
        f"uplink mqtt://{config.uplink.host}:{config.uplink.port}"
        + (" (TLS)" if config.uplink.tls else ""),
        f"{len(config.sensors)} sensor(s):",
    ]
    for s in config.sensors:
        lines.append(
            f"  {s.id:<24} {s.kind:<12} {s.source.ecosystem}:{s.source.device}"
            f"  every {s.interval_s:g} s, offline after {s.offline_s:g} s"
        )
    return lines


def _load(config_path: Path) -> GatewayConfig:
    return load_or_exit(GatewayConfig, config_path)


@click.group(name="edge")
def group() -> None:
    """Community gateway agent: run, check-config, discover, status, test-alarm."""


group.add_command(check_config_command(GatewayConfig, _describe, "gateway config"))
group.add_command(discover_command, name="discover")


@group.command()
@CONFIG_OPTION
@click.option("--log-level", default="INFO", show_default=True, help="DEBUG, INFO, WARNING...")
def run(config_path: Path, log_level: str) -> None:
    """Run the gateway agent until stopped (SIGTERM or Ctrl-C)."""
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = _load(config_path)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_run(config, config_path))
    except* OutboxError as group:
        raise click.ClickException(str(group.exceptions[0])) from None


async def _run(config: GatewayConfig, config_path: Path) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    base_dir = config_path.parent.absolute()
    while True:
        async with EdgeAgent(config, base_dir=base_dir) as agent:
            log.info("gateway %s running with %d sensors", config.gateway.id, len(config.sensors))
            gc_tuning.tune()
            new_config = await _until_stop_or_valid_reload(agent, stop, config_path)
        if new_config is None:
            return
        config = new_config
        log.info("config reloaded from %s; the agent restarts with it", config_path)


async def _until_stop_or_valid_reload(
    agent: EdgeAgent, stop: asyncio.Event, config_path: Path
) -> GatewayConfig | None:
    """Wait for a stop (None) or a reload whose file is valid (the new config).

    A reload of an invalid file is refused and the agent keeps running untouched: same boot,
    same alert mode, same detector state.
    """
    while True:
        waits = {
            asyncio.ensure_future(stop.wait()),
            asyncio.ensure_future(agent.reload_requested.wait()),
        }
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for w in waits:
            w.cancel()
        if stop.is_set():
            return None
        agent.reload_requested.clear()
        try:
            return await asyncio.to_thread(load_config, GatewayConfig, config_path)
        except ConfigError as exc:
            log.error("reload refused, the running config stays:\n%s", exc)


def _ask(config_path: Path, payload: dict[str, Any]) -> dict[str, Any]:
    from edge.agent import control_socket_path

    config = _load(config_path)
    path = control_socket_path(config, config_path.resolve().parent)
    try:
        reply = asyncio.run(request(path, payload))
    except ConnectionError as exc:
        raise click.ClickException(str(exc)) from None
    if not reply.get("ok"):
        raise click.ClickException(str(reply.get("error", "the agent refused the request")))
    return reply


def _ago(now_ms: int, then_ms: int | None) -> str:
    if not then_ms:
        return "never"
    seconds = max(0, (now_ms - then_ms) // 1000)
    return f"{seconds} s ago" if seconds < 120 else f"{seconds // 60} min ago"


@group.command()
@CONFIG_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the agent's raw answer as JSON.")
def status(config_path: Path, as_json: bool) -> None:
    """What the running agent is doing now: uplink, buffer, sensors, anomalies."""
    reply = _ask(config_path, {"op": "status"})
    if as_json:
        import orjson

        click.echo(orjson.dumps(reply, option=orjson.OPT_INDENT_2).decode())
        return
    console = Console()
    now = int(reply["now_ms"])
    up = reply["uplink"]
    console.print(
        f"[bold]{reply['gateway']}[/] boot {reply['boot']}  uplink "
        + (
            f"[green]connected[/] since {_ago(now, up['since_ms'])}"
            if up["connected"]
            else f"[red]DOWN[/] ({up['last_error'] or 'connecting'})"
        )
        + f"  reconnects {up['reconnects']}"
        + ("  [yellow]ALERT MODE[/]" if reply["alert_mode"] else "")
    )
    buf = reply["buffer"]
    lanes = "  ".join(f"{k}={v}" for k, v in buf["depth"].items())
    console.print(
        f"buffer: {lanes}  {buf['bytes']} bytes  in flight {buf['in_flight']}  "
        f"pressure {buf['pressure']}  dropped {buf['dropped']}"
    )
    table = Table("sensor", "kind", "last seen", "values", "state")
    for s in reply["sensors"]:
        anomalies = ", ".join(s["active"]) or "normal"
        table.add_row(
            s["id"],
            s["kind"],
            _ago(now, s["last_seen_ms"]),
            " ".join(f"{k}={v}" for k, v in (s["values"] or {}).items()),
            anomalies,
        )
    console.print(table)
    if reply["overdue"]:
        console.print(f"[red]overdue:[/] {', '.join(reply['overdue'])}")


@group.command(name="test-alarm")
@click.argument("sensor")
@CONFIG_OPTION
@click.option(
    "--wait",
    "wait_s",
    default=30.0,
    show_default=True,
    help="Seconds to wait for the hub to confirm it stored the test event.",
)
def test_alarm(sensor: str, config_path: Path, wait_s: float) -> None:
    """Send a test alarm for SENSOR through the hub, marked as a test: it pages nobody."""
    reply = _ask(config_path, {"op": "test_alarm", "sensor": sensor})
    click.echo(
        f"test event {reply['event']} queued"
        + ("" if reply["uplink_connected"] else " (uplink down: it waits in the outbox)")
    )
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if _ask(config_path, {"op": "confirmed", "seq": reply["seq"]})["confirmed"]:
            click.echo("the hub confirmed it stored the test event: the path works end to end")
            return
        time.sleep(0.5)
    raise click.ClickException(
        f"the hub did not confirm the test event within {wait_s:g} s; "
        "check `streetwatch edge status` (uplink, buffer) and the hub's logs"
    )
