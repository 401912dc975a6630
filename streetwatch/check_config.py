"""The ``check-config`` command every component mounts: validate a file before deploying it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from streetwatch.config import ComponentSettings, ConfigError, load_config

S = TypeVar("S", bound=ComponentSettings)


def load_or_exit(settings: type[S], path: Path) -> S:
    """The config at ``path``, or every problem printed (file:line: field: message) and exit 1."""
    try:
        return load_config(settings, path)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        raise SystemExit(1) from None


def check_config_command(
    settings: type[S], describe: Callable[[S], list[str]], what: str
) -> click.Command:
    """A ``check-config FILE`` command for ``settings``; ``describe`` summarises a good file."""

    @click.command(name="check-config")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    def command(file: Path) -> None:
        try:
            config = load_config(settings, file)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(f"error: {problem}", err=True)
            count = len(exc.problems)
            click.echo(
                f"{file}: {count} problem{'s' if count != 1 else ''}; not deployable", err=True
            )
            raise SystemExit(1) from None
        click.echo(f"{file}: OK, a valid {what}")
        for line in describe(config):
            click.echo(f"  {line}")

    command.help = (
        f"Validate a {what} file; every problem is printed with its file, line and field."
    )
    return command
