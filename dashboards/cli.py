"""`streetwatch dashboards`: Grafana dashboards."""

from __future__ import annotations

import click


@click.group(name="dashboards", invoke_without_command=True)
@click.pass_context
def group(ctx: click.Context) -> None:
    """Grafana dashboards."""
    if ctx.invoked_subcommand is None:
        click.echo("streetwatch dashboards: not yet available (tracked in issue #7).")
        ctx.exit(2)
