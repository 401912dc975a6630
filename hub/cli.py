"""`streetwatch hub`: run the hub, check its config, read back data and dead letters."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import time
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from hub.config import HubConfig, describe
from hub.ingest.deadletter import DeadLetters
from hub.service import Hub
from hub.storage.base import QueryFilter, Row, StorageError
from hub.storage.open import open_backend
from streetwatch import gc_tuning
from streetwatch.check_config import check_config_command, load_or_exit

log = logging.getLogger("streetwatch.hub")

CONFIG_OPTION = click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("hub.yaml"),
    show_default=True,
    help="The hub's config file.",
)


def _load(config_path: Path) -> HubConfig:
    return load_or_exit(HubConfig, config_path)


@click.group(name="hub")
def group() -> None:
    """Street hub: run, check-config, query, dead-letters, incidents, audit."""


group.add_command(check_config_command(HubConfig, describe, "hub config"))


@group.command()
@CONFIG_OPTION
@click.option("--log-level", default="INFO", show_default=True, help="DEBUG, INFO, WARNING...")
def run(config_path: Path, log_level: str) -> None:
    """Run the hub until stopped (SIGTERM or Ctrl-C)."""
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = _load(config_path)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_run(config, config_path.parent.absolute()))
    except* StorageError as group:
        raise click.ClickException(str(group.exceptions[0])) from None


async def _run(config: HubConfig, base_dir: Path) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with Hub(config, base_dir=base_dir) as hub:
        log.info(
            "hub %s running: %s, storage %s",
            config.hub.id,
            ", ".join(config.mqtt.shards),
            config.storage.backend,
        )
        gc_tuning.tune()
        print("READY", flush=True)
        waiters = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(hub.wait_stopped())}
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for w in waiters:
            w.cancel()


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration_s(text: str) -> float:
    try:
        return float(text[:-1]) * _UNITS[text[-1]] if text[-1] in _UNITS else float(text)
    except (ValueError, IndexError):
        raise click.BadParameter(f"{text!r}: use a number of seconds or 30m, 6h, 2d") from None


@group.command()
@CONFIG_OPTION
@click.option("--sensor", help="One sensor's data.")
@click.option("--gateway", help="Everything one gateway sent.")
@click.option("--street", help="'district/street': everything of a street.")
@click.option("--community", help="A community id (with --street).")
@click.option("--kind", help="A sensor kind (water_level, smoke...): raw and window data.")
@click.option("--measurement", help="An exact measurement (gateway_health, hub_event...).")
@click.option("--since", default="1h", show_default=True, help="How far back: 30m, 6h, 2d.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
def query(
    config_path: Path,
    sensor: str | None,
    gateway: str | None,
    street: str | None,
    community: str | None,
    kind: str | None,
    measurement: str | None,
    since: str,
    limit: int,
) -> None:
    """Read back recent data from the configured storage (newest last)."""
    config = _load(config_path)
    district = street_id = None
    if street is not None:
        district, _, street_id = street.partition("/")
        if not street_id:
            raise click.BadParameter(
                "use district/street, e.g. pudong/huamu", param_hint="--street"
            )
    q = QueryFilter(
        since_ms=int((time.time() - _duration_s(since)) * 1000),
        sensor=sensor,
        gateway=gateway,
        district=district,
        street=street_id,
        community=community,
        kind=kind,
        measurement=measurement,
        limit=limit,
    )
    try:
        rows = asyncio.run(_query(config, config_path.parent.absolute(), q))
    except StorageError as exc:
        raise click.ClickException(f"{config.storage.backend}: {exc}") from None
    _print_rows(rows)


async def _query(config: HubConfig, base_dir: Path, q: QueryFilter) -> list[Row]:
    async with open_backend(config.storage, config.state_path(base_dir, Path("."))) as backend:
        return await backend.query(q)


def _print_rows(rows: list[Row]) -> None:
    console = Console()
    if not rows:
        console.print("no data in that range")
        return
    table = Table("time", "measurement")
    table.add_column("sensor or gateway", no_wrap=True)
    table.add_column("place", overflow="fold")
    table.add_column("values", overflow="fold")
    for row in rows:
        when = datetime.fromtimestamp(row.time_ms / 1000).strftime("%Y-%m-%d %H:%M:%S")
        tags = row.tags
        who = tags.get("sensor") or tags.get("gateway") or ""
        place = "/".join(tags[k] for k in ("district", "street", "community") if k in tags)
        values = " ".join(f"{k}={v}" for k, v in sorted(row.fields.items()))
        table.add_row(when, row.measurement, who, place, values)
    console.print(table)


@group.command(name="dead-letters")
@CONFIG_OPTION
@click.option("--reason", help="Only this reason (not_json, schema, impersonation...).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
def dead_letters(config_path: Path, reason: str | None, limit: int) -> None:
    """Show the newest refused messages and the count per reason."""
    config = _load(config_path)
    path = config.state_path(config_path.parent.absolute(), Path("dead-letters.sqlite3"))
    if not path.exists():
        raise click.ClickException(f"{path} does not exist: has the hub run with this config?")

    async def read() -> None:
        async with DeadLetters(path, max_entries=config.ingest.dead_letters) as store:
            console = Console()
            counts = store.counts()
            console.print(
                "refused so far: "
                + (", ".join(f"{r} {n}" for r, n in sorted(counts.items())) or "none")
            )
            table = Table("time", "reason", "topic", "detail")
            for letter in await store.recent(limit, reason):
                when = datetime.fromtimestamp(letter.t_ms / 1000).strftime("%Y-%m-%d %H:%M:%S")
                table.add_row(when, letter.reason, letter.topic, letter.detail)
            console.print(table)

    asyncio.run(read())


def _incident_store_path(config: HubConfig, config_path: Path) -> Path:
    path = config.state_path(config_path.parent.absolute(), Path("incidents.sqlite3"))
    if not path.exists():
        raise click.ClickException(f"{path} does not exist: has the hub run with this config?")
    return path


@group.command()
@CONFIG_OPTION
@click.option("--street", help="'district/street': only incidents touching this street.")
@click.option("--all", "everything", is_flag=True, help="Also resolved and closed ones.")
@click.option("--json", "as_json", is_flag=True, help="JSON (for `streetwatch sim score`).")
def incidents(config_path: Path, street: str | None, everything: bool, as_json: bool) -> None:
    """List incidents (open and acknowledged, or --all recent ones)."""
    from hub.incidents.store import IncidentStore

    config = _load(config_path)
    path = _incident_store_path(config, config_path)
    district = street_id = None
    if street is not None:
        district, _, street_id = street.partition("/")

    async def read() -> None:
        async with IncidentStore(path) as store:
            found = (
                await store.recent(200) if everything else await store.active(district, street_id)
            )
        if everything and street_id:
            found = [i for i in found if street_id in (i.street, *i.streets)]
        if as_json:
            click.echo(json.dumps([i.model_dump(mode="json") for i in found], ensure_ascii=False))
            return
        table = Table("id", "level", "hazard", "state", "where", "opened", "answered by")
        for i in found:
            where = "/".join(p for p in (i.district, i.street, i.community, i.building) if p)
            opened = datetime.fromtimestamp(i.opened_at / 1000).strftime("%m-%d %H:%M:%S")
            table.add_row(
                i.id,
                i.level.zh,
                i.hazard.zh,
                i.state.value,
                where,
                opened,
                i.acknowledged_by or "",
            )
        Console().print(table)

    asyncio.run(read())


@group.command()
@CONFIG_OPTION
@click.option("--incident", "incident_id", help="One incident's trail (default: all).")
def audit(config_path: Path, incident_id: str | None) -> None:
    """Export the audit trail as CSV: who was told, when, by which channel, who answered."""
    from hub.incidents.store import IncidentStore

    config = _load(config_path)
    path = _incident_store_path(config, config_path)

    async def read() -> str:
        async with IncidentStore(path) as store:
            return await store.audit_csv(incident_id)

    click.echo(asyncio.run(read()), nl=False)
