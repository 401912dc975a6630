"""`streetwatch dashboards`: build the Grafana dashboards as JSON, check them, push them."""

from __future__ import annotations

from pathlib import Path

import click

from dashboards.push import DEFAULT_FOLDER, PushError, push
from dashboards.render import JSON_DIR, staleness, write


@click.group(name="dashboards")
def group() -> None:
    """Grafana dashboards as code: build, build --check, push."""


@group.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=JSON_DIR,
    show_default=True,
    help="Directory for the <uid>.json files.",
)
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 if the files in --out differ from a fresh build.",
)
def build(out: Path, check: bool) -> None:
    """Write every dashboard as <uid>.json (keys sorted, stable panel ids)."""
    if not check:
        for path in write(out):
            click.echo(f"wrote {path}")
        return
    stale = staleness(out)
    if not stale:
        click.echo(f"{out}: every dashboard is up to date")
        return
    for name in stale.changed:
        click.echo(f"stale: {out / name} differs from the dashboards' code", err=True)
    for name in stale.missing:
        click.echo(f"missing: {out / name} is not built yet", err=True)
    for name in stale.extra:
        click.echo(f"left over: {out / name} is no longer built; delete it", err=True)
    click.echo("run `streetwatch dashboards build` and commit the result", err=True)
    raise SystemExit(1)


@group.command(name="push")
@click.option("--url", required=True, help="Grafana's address, e.g. http://grafana:3000.")
@click.option(
    "--token",
    envvar="GRAFANA_TOKEN",
    default="",
    show_envvar=True,
    help="A Grafana service account token (Editor; Admin to create the folder).",
)
@click.option("--folder", default=DEFAULT_FOLDER, show_default=True, help="Grafana folder.")
def push_command(url: str, token: str, folder: str) -> None:
    """Upload every dashboard to Grafana, replacing older versions; create the folder."""
    try:
        pushed = push(url, token, folder)
    except PushError as e:
        raise click.ClickException(str(e)) from None
    made = "created" if pushed.folder_created else "existing"
    click.echo(f"folder {pushed.folder!r} ({made}, uid {pushed.folder_uid})")
    for uid in pushed.dashboards:
        click.echo(f"pushed {uid}")
