"""`streetwatch sim`: Simulators."""

from __future__ import annotations

import click


@click.group(name="sim", invoke_without_command=True)
@click.pass_context
def group(ctx: click.Context) -> None:
    """Simulators."""
    if ctx.invoked_subcommand is None:
        click.echo("streetwatch sim: not yet available (tracked in issue #6).")
        ctx.exit(2)
