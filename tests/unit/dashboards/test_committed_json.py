"""The committed dashboards/json is exactly what the code builds, and `build --check` says so."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from dashboards.boards import BOARDS
from dashboards.cli import group
from dashboards.render import JSON_DIR, rendered, staleness, write


def test_committed_json_is_what_the_code_builds(tmp_path: Path) -> None:
    written = write(tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{b.uid}.json" for b in BOARDS)
    for path in written:
        committed = JSON_DIR / path.name
        assert committed.is_file(), f"{committed} is missing: run `streetwatch dashboards build`"
        assert committed.read_bytes() == path.read_bytes(), (
            f"{committed} is stale: run `streetwatch dashboards build` and commit the result"
        )
    assert sorted(p.name for p in JSON_DIR.glob("*.json")) == sorted(p.name for p in written)


def test_building_twice_gives_the_same_bytes() -> None:
    first, second = rendered(), rendered()
    assert first == second
    for text in first.values():
        assert text.endswith("}\n")
        assert '\n  "annotations"' in text  # two-space indent, keys sorted: annotations first


def test_check_passes_on_a_fresh_build(tmp_path: Path) -> None:
    write(tmp_path)
    result = CliRunner().invoke(group, ["build", "--check", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert not staleness(tmp_path)


def test_check_names_changed_missing_and_left_over_files(tmp_path: Path) -> None:
    write(tmp_path)
    changed = tmp_path / f"{BOARDS[0].uid}.json"
    changed.write_text(changed.read_text(encoding="utf-8").replace("City", "Town"), "utf-8")
    (tmp_path / f"{BOARDS[1].uid}.json").unlink()
    (tmp_path / "old-board.json").write_text("{}\n", "utf-8")

    result = CliRunner().invoke(group, ["build", "--check", "--out", str(tmp_path)])

    assert result.exit_code == 1
    assert f"stale: {changed}" in result.output
    assert f"missing: {tmp_path / f'{BOARDS[1].uid}.json'}" in result.output
    assert f"left over: {tmp_path / 'old-board.json'}" in result.output
    assert changed.read_text(encoding="utf-8").count("Town") > 0  # --check writes nothing


def test_build_writes_every_dashboard(tmp_path: Path) -> None:
    out = tmp_path / "json"
    result = CliRunner().invoke(group, ["build", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for board in BOARDS:
        assert (out / f"{board.uid}.json").read_text(encoding="utf-8") == rendered()[
            f"{board.uid}.json"
        ]
