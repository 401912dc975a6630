"""Scenarios: YAML timelines of what happens in a simulated city (see docs/simulators.md).

The ones shipped with StreetWatch sit beside this file; ``load_scenario`` takes one of their
names or a path to any scenario file, and says exactly what is wrong with a bad one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from simulators.scenarios.model import PAST_THE_END, Scenario
from streetwatch.config import ConfigError, ConfigProblem, parse_yaml

__all__ = ["BUILTIN", "Scenario", "builtin_scenarios", "load_scenario"]

BUILTIN = Path(__file__).parent


def builtin_scenarios() -> dict[str, Path]:
    """Name → file of every scenario shipped with StreetWatch."""
    return {p.stem: p for p in sorted(BUILTIN.glob("*.yaml"))}


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A shipped scenario by name, or a scenario file; ``ConfigError`` lists every problem."""
    shipped = builtin_scenarios()
    path = shipped.get(str(name_or_path)) or Path(name_or_path)
    file = str(path)
    if not path.is_file():
        known = ", ".join(shipped) or "none"
        raise ConfigError(
            [ConfigProblem(file, None, "", f"no such scenario; the shipped ones are: {known}")]
        )
    doc = parse_yaml(path.read_text(encoding="utf-8"), file)
    try:
        return Scenario.model_validate(doc.data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = _located(err["type"], tuple(err["loc"]), err.get("ctx"), doc.data)
            field = ".".join(str(p) for p in loc)
            message = str(err["msg"]).removeprefix("Value error, ")
            problems.append(ConfigProblem(file, doc.line_of(loc), field, message))
        raise ConfigError(problems) from None


def _located(
    kind: str, loc: tuple[str | int, ...], ctx: dict[str, Any] | None, data: Any
) -> tuple[str | int, ...]:
    """Where in the file an error is: the step that runs too long; without the tag (the step's
    ``do``) that pydantic puts into the location of an error inside a step."""
    if kind == PAST_THE_END and ctx is not None:
        return ("timeline", ctx["index"])
    out: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part not in node and node.get("do") == part:
            continue  # the tag, not a key of the file
        out.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(out)
