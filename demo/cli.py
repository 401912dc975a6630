"""`streetwatch demo`: the whole chain on a small simulated city, live in the terminal (#7).

Everything runs on this machine: MQTT brokers (Mosquitto when installed, else the pure-Python
amqtt; or ``--broker``), the hub (SQLite, or ``--influx-url``), an edge agent per gateway and
simulated responders. Ctrl-C stops every part of it at any moment and exits with 130.
"""

from __future__ import annotations

import asyncio
import signal
import tempfile
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from demo.display import LiveView, PlainView, View
from demo.notify import load_watcher
from demo.session import DemoOptions, run_demo
from simulators.run.brokers import BrokerError
from simulators.run.embedded_broker import EmbeddedChoice, choose_broker
from simulators.run.session import RunResult
from simulators.scenarios import load_scenario
from simulators.score import render_table
from simulators.tape.targets import TargetError
from streetwatch.config import ConfigError

DEFAULT_SCENARIO = "demo"
INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it
PLAIN_WIDTH = 160


class Interrupted(Exception):
    """Ctrl-C (or SIGTERM): the run was stopped and everything it started is gone."""


@click.command(name="demo")
@click.option(
    "--scenario",
    "name",
    default=DEFAULT_SCENARIO,
    show_default=True,
    help="A shipped scenario's name (`streetwatch sim scenarios`), or a file.",
)
@click.option(
    "--speed",
    type=click.FloatRange(0.1, 10_000),
    help="Simulated seconds per real second [default: the scenario's, 90 for demo]. "
    "Above about 150 a 2-core machine falls behind.",
)
@click.option("--seed", default=1, show_default=True, help="Same seed, same city, same run.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to keep the results [default: a new directory in the temp dir].",
)
@click.option(
    "--broker",
    metavar="HOST:PORT",
    help="Use this MQTT broker for everything instead of embedded ones.",
)
@click.option(
    "--embedded-broker",
    "embedded",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "mosquitto", "amqtt"]),
    help="auto: mosquitto when installed, else amqtt (pure Python).",
)
@click.option("--influx-url", help="Store in this InfluxDB instead of the embedded SQLite.")
@click.option(
    "--influx-db",
    default="streetwatch",
    show_default=True,
    help="InfluxDB 1.x database, or 2.x bucket.",
)
@click.option("--influx-org", default="streetwatch", show_default=True, help="InfluxDB 2.x org.")
@click.option(
    "--influx-token",
    envvar="STREETWATCH_HUB_STORAGE__INFLUXDB_V2__TOKEN",
    help="InfluxDB 2.x token (or that variable); without one, InfluxDB 1.x.",
)
@click.option(
    "--notify",
    "notify_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML with real channels (as hub.yaml's notify.channels) to get the pages on.",
)
def command(
    name: str,
    speed: float | None,
    seed: int,
    out: Path | None,
    broker: str | None,
    embedded: EmbeddedChoice,
    influx_url: str | None,
    influx_db: str,
    influx_org: str,
    influx_token: str | None,
    notify_file: Path | None,
) -> None:
    """Run a small simulated city end to end in the terminal (about a minute).

    A downpour floods a street and a kitchen fire breaks out in another: watch the streets'
    levels, the incidents, every page and who answers it (叫应), then the score. See
    docs/demo.md.
    """
    console = Console(highlight=False)
    if not console.is_terminal:  # a log or a pipe: wide enough for the score table
        console = Console(highlight=False, width=PLAIN_WIDTH)
    try:
        scenario = load_scenario(name)
        brokers = choose_broker(embedded, _host_port(broker) if broker else None)
        watcher = load_watcher(notify_file) if notify_file else None
    except (ConfigError, BrokerError) as exc:
        raise click.ClickException(str(exc)) from None
    options = DemoOptions(
        scenario=scenario,
        seed=seed,
        speed=speed or scenario.speed,
        out=out or Path(tempfile.mkdtemp(prefix="streetwatch-demo-")),
        brokers=brokers,
        storage=_storage(influx_url, influx_db, influx_org, influx_token),
        watcher=watcher,
    )
    _introduce(console, options)
    view: View = (LiveView if console.is_terminal else PlainView)(
        console, options.scenario.title, options.zone
    )
    try:
        result = asyncio.run(_interruptible(options, view))
    except (KeyboardInterrupt, Interrupted):
        click.echo(f"\nStopped: everything the demo started is stopped; partial data (truth, hub "
                   f"database, logs) in {options.out}", err=True)  # fmt: skip
        raise SystemExit(INTERRUPTED) from None
    except Exception as exc:  # components raise from their task groups: find the person's error
        known = _for_people(exc)
        if known is None:
            raise
        raise click.ClickException(f"{known}\n(partial data in {options.out})") from None
    _conclude(console, options, result)


def _for_people(exc: BaseException) -> Exception | None:
    """The error a person can act on (a broker that does not start, a place the city does not
    have, a bad config), also from inside exception groups; None for a bug."""
    if isinstance(exc, BrokerError | TargetError | ConfigError):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            if (found := _for_people(inner)) is not None:
                return found
    return None


async def _interruptible(options: DemoOptions, view: View) -> RunResult:
    """The demo, stopped cleanly by the first Ctrl-C or SIGTERM (later ones change nothing)."""
    task = asyncio.current_task()
    assert task is not None
    stopping: list[int] = []

    def stop(signum: int) -> None:
        if not stopping:
            stopping.append(signum)
            task.cancel()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop, signum)
    try:
        return await run_demo(options, view)
    except asyncio.CancelledError:
        if stopping:
            raise Interrupted from None
        raise
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter("use host:port, e.g. 127.0.0.1:1883", param_hint="--broker")
    return host, int(port)


def _storage(url: str | None, db: str, org: str, token: str | None) -> dict[str, Any] | None:
    """The hub's storage section: None (SQLite), InfluxDB 1.x, or 2.x when there is a token."""
    if url is None:
        return None
    if token:
        v2 = {"url": url, "org": org, "bucket": db, "token": token}
        return {"backend": "influxdb_v2", "influxdb_v2": v2, "flush_interval_s": 1}
    return {"backend": "influxdb_v1", "influxdb_v1": {"url": url, "database": db},
            "flush_interval_s": 1}  # fmt: skip


def _introduce(console: Console, options: DemoOptions) -> None:
    s = options.scenario
    store = (options.storage or {}).get("backend", "sqlite")
    real = s.duration / options.speed
    console.print(
        f"{s.name}: {s.duration / 60:g} simulated minutes at {options.speed:g}× (about "
        f"{real:.0f} s), seed {options.seed}; broker {options.brokers.name}, store {store}",
        markup=False,
        soft_wrap=True,
    )


def _conclude(console: Console, options: DemoOptions, result: RunResult) -> None:
    console.print(render_table(result.score))
    stats = result.stats
    console.print(
        f"{stats.published} device messages, {stats.controls} network/power events "
        f"({stats.skipped} skipped); playback at most {stats.lag_s:.1f} simulated s late",
        markup=False,
    )
    if stats.lag_s > options.scenario.tick:
        late = f"warning: this machine fell {stats.lag_s:.0f} s behind at {options.speed:g}×"
        console.print(f"{late}; run again with a lower --speed", markup=False)
    files = "score.json, incidents.json, pages.json, truth.jsonl, run.json, run.log, work/"
    console.print(f"Results written to {options.out} ({files})", markup=False, soft_wrap=True)
