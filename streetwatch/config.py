"""Config loading shared by every component: YAML, then environment overrides, then pydantic.

* Each component's config is a ``ComponentSettings`` subclass with its own ``env_prefix``
  (``STREETWATCH_EDGE_``, ``STREETWATCH_HUB_``...). Nested fields are overridden with ``__``:
  ``STREETWATCH_EDGE_UPLINK__PORT=8883``. The environment wins over the file.
* Secrets (``SecretStr`` fields) are read only from the environment. A secret written in the
  file is an error that names the variable to use instead.
* Every problem names the file, the line and the field, and is collected, not raised one by one,
  so ``check-config`` prints all of them at once.
"""

from __future__ import annotations

import os
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, Union

import yaml
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

S = TypeVar("S", bound="ComponentSettings")
FieldPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field or '(top level)'}: {self.message}"


class ConfigError(Exception):
    """A config that cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class Section(BaseModel):
    """Base of a config section: frozen, unknown keys refused (a typo is an error, not a no-op).

    Validation errors do not quote the value they refuse: it may be a secret.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class ComponentSettings(BaseSettings):
    """Base of every component's config: strict keys, environment above file."""

    model_config = SettingsConfigDict(
        extra="forbid",
        env_nested_delimiter="__",
        frozen=True,
        validate_default=True,
        hide_input_in_errors=True,  # the value refused may be a secret
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The first source wins: the environment overrides the YAML file (passed as init).
        return (env_settings, init_settings)

    @classmethod
    def file_secret_paths(cls, data: dict[str, Any]) -> Iterator[FieldPath]:
        """Where a secret may not be written in ``data`` (the file): every ``SecretStr`` field.

        Components whose sections are typed only at run time (a channel's settings chosen by its
        ``type``) add the secret fields of those here.
        """
        return secret_paths(cls)

    def semantic_problems(self) -> list[tuple[FieldPath, str]]:
        """Cross-field problems (duplicates, conflicts), each with the path it is about.

        Components override this instead of raising from a model validator, so that every such
        problem is reported at once and with the line of the exact field.
        """
        return []

    @classmethod
    def partial_problems(cls, data: dict[str, Any]) -> list[tuple[FieldPath, str]]:
        """Cross-field problems found in the valid parts of a config that failed validation.

        Called only when validation failed, so that an installer sees duplicates and conflicts
        in the same run as type errors. Components override it; the default finds none.
        """
        return []


# ---------------------------------------------------------------------------------------------
# YAML with the line of every key.


def _walk(
    node: yaml.Node, path: FieldPath, lines: dict[FieldPath, int], dups: list[FieldPath]
) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                dups.append((*path, key))
            seen.add(key)
            _walk(value_node, (*path, key), lines, dups)
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines, dups)


@dataclass(frozen=True, slots=True)
class YamlDocument:
    data: Any
    lines: dict[FieldPath, int]
    duplicates: list[FieldPath]

    def line_of(self, path: FieldPath) -> int | None:
        """The line of the longest prefix of ``path`` present in the file."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None


def parse_yaml(text: str, file: str) -> YamlDocument:
    """Parse YAML keeping each key's line; a syntax error becomes a ``ConfigError``."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([ConfigProblem(file, line, "", f"not valid YAML: {problem}")]) from None
    lines: dict[FieldPath, int] = {}
    dups: list[FieldPath] = []
    if node is not None:
        _walk(node, (), lines, dups)
    return YamlDocument({} if data is None else data, lines, dups)


# ---------------------------------------------------------------------------------------------
# Secrets.


def _is_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        return any(_is_secret(a) for a in typing.get_args(annotation))
    return False


def _model_of(annotation: Any) -> type[BaseModel] | None:
    candidates = [annotation, *typing.get_args(annotation)]
    for c in candidates:
        if isinstance(c, type) and issubclass(c, BaseModel):
            return c
    return None


def secret_paths(model: type[BaseModel], prefix: FieldPath = ()) -> Iterator[FieldPath]:
    """Paths of every ``SecretStr`` field, through nested models (not through lists)."""
    for name, info in model.model_fields.items():
        if _is_secret(info.annotation):
            yield (*prefix, name)
            continue
        sub = _model_of(info.annotation)
        if sub is not None:
            yield from secret_paths(sub, (*prefix, name))


def env_name(settings: type[ComponentSettings], path: FieldPath) -> str:
    """The environment variable that sets the field at ``path``."""
    prefix = settings.model_config.get("env_prefix") or ""
    return (prefix + "__".join(str(p) for p in path)).upper()


def _lookup(data: Any, path: FieldPath) -> tuple[bool, Any]:
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return False, None
    return True, data


# ---------------------------------------------------------------------------------------------
# Loading.


def _field(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _from_env(settings: type[ComponentSettings], loc: FieldPath) -> str | None:
    for end in range(len(loc), 0, -1):
        name = env_name(settings, loc[:end])
        if name in os.environ:
            return name
    return None


def load_config(settings: type[S], path: str | os.PathLike[str]) -> S:
    """Load a component's YAML config with environment overrides, or raise ``ConfigError``."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([ConfigProblem(file, None, "", f"cannot read: {exc.strerror}")]) from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        message = f"not UTF-8 text (byte {exc.object[exc.start]:#04x}); save the file as UTF-8"
        raise ConfigError([ConfigProblem(file, line, "", message)]) from None
    return load_config_text(settings, text, file)


def load_config_text(settings: type[S], text: str, file: str = "<config>") -> S:
    doc = parse_yaml(text, file)
    problems: list[ConfigProblem] = []
    if not isinstance(doc.data, dict):
        raise ConfigError([ConfigProblem(file, 1, "", "the config must be a mapping of keys")])
    for dup in doc.duplicates:
        problems.append(
            ConfigProblem(file, doc.line_of(dup), _field(dup), "key appears twice; keep one")
        )
    for secret in settings.file_secret_paths(doc.data):
        present, _ = _lookup(doc.data, secret)
        if present:
            problems.append(
                ConfigProblem(
                    file,
                    doc.line_of(secret),
                    _field(secret),
                    "secrets are not read from files; remove it and set the environment "
                    f"variable {env_name(settings, secret)} instead",
                )
            )
    bad_keys = [k for k in doc.data if not isinstance(k, str)]
    for key in bad_keys:
        # YAML 1.1 reads unquoted on/off/yes/no as booleans, so `on:` is not the name "on".
        problems.append(
            ConfigProblem(
                file,
                doc.lines.get((str(key),)),
                str(key),
                f"keys must be names, not {type(key).__name__} values; quote the key",
            )
        )
    if bad_keys:
        raise ConfigError(problems)
    try:
        config = settings(**doc.data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            env = _from_env(settings, loc)
            message = str(err["msg"]).removeprefix("Value error, ")
            if env is not None and not _lookup(doc.data, loc)[0]:
                message += f" (from environment variable {env})"
            problems.append(ConfigProblem(file, doc.line_of(loc), _field(loc), message))
        for loc, message in settings.partial_problems(doc.data):
            problems.append(ConfigProblem(file, doc.line_of(loc), _field(loc), message))
        raise ConfigError(problems) from None
    for loc, message in config.semantic_problems():
        problems.append(ConfigProblem(file, doc.line_of(loc), _field(loc), message))
    if problems:
        raise ConfigError(problems)
    return config
