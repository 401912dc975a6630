"""`streetwatch edge`: Community gateway agent."""

from __future__ import annotations

import click


@click.group(name="edge", invoke_without_command=True)
@click.pass_context
def group(ctx: click.Context) -> None:
    """Community gateway agent."""
    if ctx.invoked_subcommand is None:
        click.echo("streetwatch edge: not yet available (tracked in issue #3).")
        ctx.exit(2)
