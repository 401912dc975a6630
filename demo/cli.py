"""`streetwatch demo`: the whole chain on a small simulated city (issue #7)."""

from __future__ import annotations

import click


@click.command(name="demo")
def command() -> None:
    """Run a small simulated city end to end in the terminal."""
    click.echo("streetwatch demo: not yet available (tracked in issue #7).")
    raise SystemExit(2)
