"""Scenarios: YAML timelines of what happens in a simulated city (see docs/simulators.md).

The ones shipped with StreetWatch sit beside this file; ``load_scenario`` takes one of their
names or a path to any scenario file, and says exactly what is wrong with a bad one.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from simulators.scenarios.model import Scenario
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
            loc = tuple(err["loc"])
            field = ".".join(str(p) for p in loc)
            message = str(err["msg"]).removeprefix("Value error, ")
            problems.append(ConfigProblem(file, doc.line_of(loc), field, message))
        raise ConfigError(problems) from None
