from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from streetwatch import __version__
from streetwatch.cli import main
from streetwatch.schema import schema_files

PROTOCOL = Path(__file__).resolve().parents[3] / "docs" / "protocol"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_help_lists_every_component(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    commands = result.output.split("Commands:")[1]
    listed = {line.split()[0] for line in commands.splitlines() if line.startswith("  ")}
    assert {"edge", "hub", "sim", "dashboards", "demo", "schema"} <= listed


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"streetwatch, version {__version__}"


def test_unknown_command(runner: CliRunner) -> None:
    result = runner.invoke(main, ["frobnicate"])
    assert result.exit_code == 2
    assert "No such command 'frobnicate'" in result.output


def test_schema_check_passes_on_the_committed_files(runner: CliRunner) -> None:
    result = runner.invoke(main, ["schema", "--check", "--out", str(PROTOCOL)])
    assert result.exit_code == 0, result.output
    assert "0 schema file(s) stale" in result.output


def test_schema_writes_then_check_passes(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "protocol"
    result = runner.invoke(main, ["schema", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"{len(schema_files())} schema file(s) written" in result.output
    for name, text in schema_files().items():
        assert (out / name).read_text(encoding="utf-8") == text
    assert runner.invoke(main, ["schema", "--check", "--out", str(out)]).exit_code == 0


def test_schema_check_fails_on_a_stale_file(runner: CliRunner, tmp_path: Path) -> None:
    files = schema_files()
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    stale = tmp_path / "event.schema.json"
    stale.write_text(files["event.schema.json"].replace('"level"', '"severity"'), encoding="utf-8")

    result = runner.invoke(main, ["schema", "--check", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "event.schema.json" in result.output
    assert "telemetry.schema.json" not in result.output
    assert "run `streetwatch schema`" in result.output
    # --check never writes.
    assert stale.read_text(encoding="utf-8") != files["event.schema.json"]


def test_schema_check_fails_on_an_empty_folder(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["schema", "--check", "--out", str(tmp_path)])
    assert result.exit_code == 1
    for name in schema_files():
        assert name in result.output
    assert list(tmp_path.iterdir()) == []


def test_schema_rewrites_a_stale_file(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "state.schema.json").write_text("{}\n", encoding="utf-8")
    result = runner.invoke(main, ["schema", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "state.schema.json").read_text(encoding="utf-8") == (
        schema_files()["state.schema.json"]
    )
