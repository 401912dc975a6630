"""The ``streetwatch`` command.

Component groups (``edge``, ``hub``, ``sim``, ``dashboards``) and ``demo`` are mounted from
their own packages through the ``streetwatch.commands`` entry points, loaded only when used:
this package never imports the components, and ``streetwatch --help`` stays fast.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import click

from streetwatch import __version__

ENTRY_POINT_GROUP = "streetwatch.commands"

_HELP = {
    "edge": "Community gateway agent: run, check-config, discover, status, test-alarm.",
    "hub": "Street hub: ingest, storage, presence, incidents and pushes.",
    "sim": "Simulated sensors, cities and scenarios with ground truth.",
    "dashboards": "Grafana dashboards as code: build and push.",
    "demo": "Run a small simulated city end to end in the terminal.",
}


class ComponentGroup(click.Group):
    """A group whose subcommands come from entry points, imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        found = {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
        return sorted(found | set(super().list_commands(ctx)))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        builtin = super().get_command(ctx, cmd_name)
        if builtin is not None:
            return builtin
        for ep in entry_points(group=ENTRY_POINT_GROUP, name=cmd_name):
            command = ep.load()
            if not isinstance(command, click.Command):
                raise click.ClickException(f"entry point {ep.value} is not a click command")
            if not command.help and cmd_name in _HELP:
                command.help = _HELP[cmd_name]
            return command
        return None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Describe components without importing them.
        rows = []
        for name in self.list_commands(ctx):
            text = _HELP.get(name)
            if text is None:
                command = self.get_command(ctx, name)
                text = command.get_short_help_str() if command else ""
            rows.append((name, text))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=ComponentGroup)
@click.version_option(__version__, prog_name="streetwatch")
def main() -> None:
    """StreetWatch: street-level sensing and acknowledged warnings (叫应)."""


@main.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("docs/protocol"),
    show_default=True,
    help="Folder to write one JSON Schema file per wire message into.",
)
@click.option("--check", is_flag=True, help="Exit 1 if the files differ instead of writing.")
def schema(out: Path, check: bool) -> None:
    """Write (or check) the JSON Schema of every wire message."""
    from streetwatch.schema import schema_files

    stale = []
    for name, text in schema_files().items():
        target = out / name
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current != text:
            stale.append(name)
            if not check:
                out.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
    if check and stale:
        raise click.ClickException(
            f"{out} is stale for: {', '.join(stale)}; run `streetwatch schema` and commit"
        )
    click.echo(f"{len(stale)} schema file(s) {'stale' if check else 'written'} in {out}")
