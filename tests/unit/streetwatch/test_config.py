from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from streetwatch.config import (
    ComponentSettings,
    ConfigError,
    ConfigProblem,
    env_name,
    load_config,
    load_config_text,
    parse_yaml,
    secret_paths,
)


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Item name.")
    port: int = Field(ge=1, le=65535, description="A port.")


class Uplink(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(default="localhost", description="Broker host.")
    port: int = Field(default=1883, ge=1, le=65535, description="Broker port.")
    password: SecretStr | None = Field(default=None, description="Broker password (env only).")


class Settings(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="STREETWATCH_TEST_")

    name: str = Field(description="A name.")
    interval_s: float = Field(default=60, gt=0, le=3600, description="An interval.")
    uplink: Uplink = Field(default_factory=Uplink, description="Where to send.")
    items: list[Item] = Field(default_factory=list, description="Some items.")
    token: SecretStr | None = Field(default=None, description="A token (env only).")


GOOD = """\
name: community-1
interval_s: 30
uplink:
  host: broker.local
  port: 8883
items:
  - name: a
    port: 1
  - name: b
    port: 2
"""


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No STREETWATCH_TEST_* variable from the outside can leak into these tests."""
    for name in list(os.environ):
        if name.startswith("STREETWATCH_TEST_"):
            monkeypatch.delenv(name)


def _write(tmp_path: Path, text: str, name: str = "test.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _problems(tmp_path: Path, text: str) -> list[ConfigProblem]:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(Settings, path)
    for problem in info.value.problems:
        assert problem.file == str(path)
        assert str(problem) in str(info.value)
    return info.value.problems


def _one(tmp_path: Path, text: str) -> ConfigProblem:
    problems = _problems(tmp_path, text)
    assert len(problems) == 1, problems
    return problems[0]


def test_yaml_values_load(tmp_path: Path) -> None:
    config = load_config(Settings, _write(tmp_path, GOOD))
    assert config.name == "community-1"
    assert config.interval_s == 30
    assert config.uplink == Uplink(host="broker.local", port=8883)
    assert config.items == [Item(name="a", port=1), Item(name="b", port=2)]
    assert config.token is None


def test_defaults_apply(tmp_path: Path) -> None:
    config = load_config(Settings, _write(tmp_path, "name: x\n"))
    assert config.interval_s == 60
    assert config.uplink == Uplink()
    assert config.items == []


def test_loaded_config_is_frozen(tmp_path: Path) -> None:
    config = load_config(Settings, _write(tmp_path, GOOD))
    with pytest.raises(ValueError, match="frozen"):
        config.name = "other"  # type: ignore[misc]


def test_environment_overrides_a_nested_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREETWATCH_TEST_UPLINK__PORT", "1884")
    config = load_config(Settings, _write(tmp_path, GOOD))
    assert config.uplink.port == 1884
    # The other fields of the same nested model still come from the file.
    assert config.uplink.host == "broker.local"
    assert config.name == "community-1"


def test_environment_overrides_a_top_level_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREETWATCH_TEST_INTERVAL_S", "5")
    assert load_config(Settings, _write(tmp_path, GOOD)).interval_s == 5


def test_environment_fills_a_required_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREETWATCH_TEST_NAME", "from-env")
    assert load_config(Settings, _write(tmp_path, "interval_s: 1\n")).name == "from-env"


def test_secrets_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREETWATCH_TEST_TOKEN", "s3cret")
    monkeypatch.setenv("STREETWATCH_TEST_UPLINK__PASSWORD", "pa55")
    config = load_config(Settings, _write(tmp_path, GOOD))
    assert config.token is not None
    assert config.token.get_secret_value() == "s3cret"
    assert config.uplink.password is not None
    assert config.uplink.password.get_secret_value() == "pa55"
    assert "s3cret" not in repr(config)
    assert "pa55" not in str(config)


def test_bad_environment_value_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREETWATCH_TEST_UPLINK__PORT", "70000")
    problem = _one(tmp_path, "name: x\n")
    assert problem.field == "uplink.port"
    assert "STREETWATCH_TEST_UPLINK__PORT" in problem.message


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        ("name: x\ninterval_s: fast\n", 2, "interval_s", "valid number"),
        ("name: x\ninterval_s: [1]\n", 2, "interval_s", "valid number"),
        ("name: x\ninterval_s: 0\n", 2, "interval_s", "greater than 0"),
        ("name: x\ninterval_s: 7200\n", 2, "interval_s", "less than or equal to 3600"),
        ("name: x\nuplink:\n  host: h\n  port: 70000\n", 4, "uplink.port", "less than or equal"),
        ("name: x\nuplink:\n  port: abc\n", 3, "uplink.port", "valid integer"),
        ("name: x\ncolour: blue\n", 2, "colour", "Extra inputs are not permitted"),
        ("name: x\nuplink:\n  hots: h\n", 3, "uplink.hots", "Extra inputs are not permitted"),
        ("name: x\nuplink: broker\n", 2, "uplink", "valid dictionary"),
        (
            "name: x\nitems:\n  - name: a\n    port: 1\n  - name: b\n    port: nope\n",
            6,
            "items[1].port",
            "valid integer",
        ),
        (
            "name: x\nitems:\n  - name: a\n    port: 1\n  - name: b\n    port: 0\n",
            6,
            "items[1].port",
            "greater than or equal to 1",
        ),
        (
            "name: x\nitems:\n  - name: a\n    port: 1\n    colour: red\n",
            5,
            "items[0].colour",
            "Extra inputs",
        ),
        ("name: x\nitems:\n  - name: a\n", 3, "items[0].port", "Field required"),
    ],
)
def test_problem_names_file_line_and_field(
    tmp_path: Path, text: str, line: int, field: str, message: str
) -> None:
    problem = _one(tmp_path, text)
    assert (problem.line, problem.field) == (line, field)
    assert message in problem.message
    assert str(problem).startswith(f"{tmp_path / 'test.yaml'}:{line}: {field}: ")


def test_missing_required_field(tmp_path: Path) -> None:
    problem = _one(tmp_path, "interval_s: 1\n")
    assert problem.field == "name"
    assert "Field required" in problem.message


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("name: x\ninterval_s: 1\nname: y\n", 3, "name"),
        ("name: x\nuplink:\n  host: a\n  port: 1\n  host: b\n", 5, "uplink.host"),
        ("name: x\nitems:\n  - name: a\n    port: 1\n    port: 2\n", 5, "items[0].port"),
    ],
)
def test_duplicate_key(tmp_path: Path, text: str, line: int, field: str) -> None:
    problem = _one(tmp_path, text)
    assert (problem.line, problem.field) == (line, field)
    assert "appears twice" in problem.message


@pytest.mark.parametrize(
    ("text", "line", "field", "variable"),
    [
        ("name: x\ntoken: abc\n", 2, "token", "STREETWATCH_TEST_TOKEN"),
        ("name: x\ntoken:\n", 2, "token", "STREETWATCH_TEST_TOKEN"),
        (
            "name: x\nuplink:\n  host: h\n  password: hunter2\n",
            4,
            "uplink.password",
            "STREETWATCH_TEST_UPLINK__PASSWORD",
        ),
    ],
)
def test_secret_in_the_file_names_the_variable(
    tmp_path: Path, text: str, line: int, field: str, variable: str
) -> None:
    problem = _one(tmp_path, text)
    assert (problem.line, problem.field) == (line, field)
    assert f"environment variable {variable}" in problem.message
    assert "hunter2" not in problem.message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("name: x\nuplink:\n  host: [a\n", 4),
        ("name: x\n  bad indent: 1\n", 2),
        ("name: 'x\n", 2),
        ("name: x\n\tinterval_s: 1\n", 2),
    ],
)
def test_yaml_syntax_error_has_a_line(tmp_path: Path, text: str, line: int) -> None:
    problem = _one(tmp_path, text)
    assert problem.line == line
    assert problem.message.startswith("not valid YAML")


@pytest.mark.parametrize("text", ["- name: x\n- name: y\n", "just text\n", "42\n"])
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    problem = _one(tmp_path, text)
    assert problem.line == 1
    assert "mapping" in problem.message


@pytest.mark.parametrize(
    ("text", "field", "line", "kind"),
    [
        ("name: x\n1: y\n", "1", 2, "int"),
        ("name: x\n2.5: y\n", "2.5", 2, "float"),
        # YAML 1.1: an unquoted `on` is the boolean true, not the name "on".
        ("name: x\non: y\n", "True", None, "bool"),
    ],
)
def test_top_level_keys_must_be_names(
    tmp_path: Path, text: str, field: str, line: int | None, kind: str
) -> None:
    problem = _one(tmp_path, text)
    assert (problem.field, problem.line) == (field, line)
    assert f"keys must be names, not {kind} values" in problem.message


def test_empty_file_is_an_empty_mapping(tmp_path: Path) -> None:
    problem = _one(tmp_path, "# nothing here\n")
    assert problem.field == "name"
    assert "Field required" in problem.message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(Settings, path)
    (problem,) = info.value.problems
    assert problem.file == str(path)
    assert problem.line is None
    assert "cannot read" in problem.message
    assert "No such file" in problem.message


def test_unreadable_file(tmp_path: Path) -> None:
    # A folder where a file was expected cannot be read, whoever runs the tests (even root).
    folder = tmp_path / "config.yaml"
    folder.mkdir()
    with pytest.raises(ConfigError) as info:
        load_config(Settings, folder)
    (problem,) = info.value.problems
    assert problem.file == str(folder)
    assert "cannot read" in problem.message


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("interval_s: 1\nname: caf\u00e9\n".encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        load_config(Settings, path)
    (problem,) = info.value.problems
    assert (problem.file, problem.line) == (str(path), 2)
    assert "UTF-8" in problem.message


def test_several_problems_are_reported_at_once(tmp_path: Path) -> None:
    text = """\
        name: x
        interval_s: -1
        uplink:
          port: 0
          password: p
        items:
          - name: a
            port: 1
          - name: b
            port: big
        colour: red
        name: y
        """
    problems = _problems(tmp_path, text)
    found = {(p.field, p.line) for p in problems}
    assert found == {
        ("name", 12),
        ("uplink.password", 5),
        ("interval_s", 2),
        ("uplink.port", 4),
        ("items[1].port", 10),
        ("colour", 11),
    }


class Checked(Settings):
    """Cross-field rules reported through the hooks, with the line of the field they are about."""

    def semantic_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        names = [item.name for item in self.items]
        return [
            (("items", i, "name"), f"item name {item.name!r} is used twice")
            for i, item in enumerate(self.items)
            if item.name in names[:i]
        ]

    @classmethod
    def partial_problems(cls, data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
        items = data.get("items") or []
        names = [item.get("name") for item in items if isinstance(item, dict)]
        return [(("items",), "item names repeat")] if len(set(names)) != len(names) else []


def test_semantic_problems_have_lines(tmp_path: Path) -> None:
    text = "name: x\nitems:\n  - name: a\n    port: 1\n  - name: a\n    port: 2\n"
    with pytest.raises(ConfigError) as info:
        load_config(Checked, _write(tmp_path, text))
    (problem,) = info.value.problems
    assert (problem.line, problem.field) == (5, "items[1].name")
    assert "used twice" in problem.message


def test_partial_problems_come_with_validation_errors(tmp_path: Path) -> None:
    text = "name: x\ninterval_s: no\nitems:\n  - name: a\n    port: 1\n  - name: a\n    port: 2\n"
    with pytest.raises(ConfigError) as info:
        load_config(Checked, _write(tmp_path, text))
    found = {(p.field, p.line, p.message) for p in info.value.problems}
    assert ("items", 3, "item names repeat") in found
    assert any(field == "interval_s" for field, _, _ in found)


def test_load_config_text_uses_the_given_file_name() -> None:
    with pytest.raises(ConfigError) as info:
        load_config_text(Settings, "name: x\ninterval_s: no\n", "site/gw.yaml")
    (problem,) = info.value.problems
    assert str(problem).startswith("site/gw.yaml:2: interval_s: ")


def test_problem_without_line_or_field() -> None:
    assert (
        str(ConfigProblem("a.yaml", None, "", "cannot read")) == "a.yaml: (top level): cannot read"
    )


def test_secret_paths_and_env_names() -> None:
    assert sorted(secret_paths(Settings)) == [("token",), ("uplink", "password")]
    assert env_name(Settings, ("uplink", "password")) == "STREETWATCH_TEST_UPLINK__PASSWORD"
    assert env_name(Settings, ("interval_s",)) == "STREETWATCH_TEST_INTERVAL_S"


def test_parse_yaml_keeps_lines() -> None:
    doc = parse_yaml("a: 1\nb:\n  c:\n    - x: 2\n", "f.yaml")
    assert doc.data == {"a": 1, "b": {"c": [{"x": 2}]}}
    assert doc.lines[("a",)] == 1
    assert doc.lines[("b", "c")] == 3
    assert doc.lines[("b", "c", 0, "x")] == 4
    assert doc.line_of(("b", "c", 0, "x", "deeper")) == 4
    assert doc.duplicates == []
