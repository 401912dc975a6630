"""`streetwatch hub`: Street hub."""

from __future__ import annotations

import click


@click.group(name="hub", invoke_without_command=True)
@click.pass_context
def group(ctx: click.Context) -> None:
    """Street hub."""
    if ctx.invoked_subcommand is None:
        click.echo("streetwatch hub: not yet available (tracked in issue #4).")
        ctx.exit(2)
