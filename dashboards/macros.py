"""What Grafana does to an InfluxQL query before it sends it, for running the dashboards'
queries outside Grafana (the tests do, against a real InfluxDB).

Grafana replaces ``$timeFilter`` by the time range, ``$__interval``/``$interval`` by the
panel's interval, ``$__interval_ms``, ``${__from}``/``${__to}`` by numbers, and each template
variable (``$street``, ``${street}``, ``[[street]]``) by its selection: a multi-value variable's
values regex-escaped, one as is, several as ``(a|b)``, "All" as the variable's all value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from dashboards.variables import ALL_VALUE

__all__ = ["Expansion", "duration_ms", "escape_regex", "expand"]

_REFERENCE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)")
_REGEX_SPECIAL = re.compile(r"[\\^$*+?.()|\[\]{}/]")
_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def escape_regex(value: str) -> str:
    """As Grafana escapes a variable's value for an InfluxQL regex."""
    return _REGEX_SPECIAL.sub(lambda m: "\\" + m.group(0), value)


def duration_ms(interval: str) -> int:
    """``"30s"`` → 30000."""
    match = re.fullmatch(r"(\d+)(ms|s|m|h|d)", interval)
    if match is None:
        raise ValueError(f"not a Grafana interval: {interval!r} (e.g. 30s, 5m, 1h)")
    return int(match.group(1)) * _UNITS_MS[match.group(2)]


@dataclass(frozen=True, slots=True)
class Expansion:
    """A dashboard's state: the time range (Unix ms), the panel interval, the selections.

    ``selected`` maps a variable to its selected values; a variable left out is on "All".
    """

    from_ms: int
    to_ms: int
    interval: str = "1m"
    selected: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def value(self, name: str, variables: Sequence[str]) -> str:
        builtin = {
            "timeFilter": f"time >= {self.from_ms}ms and time <= {self.to_ms}ms",
            "__interval": self.interval,
            "interval": self.interval,
            "__interval_ms": str(duration_ms(self.interval)),
            "__from": str(self.from_ms),
            "__to": str(self.to_ms),
        }
        if name in builtin:
            return builtin[name]
        if name not in variables:
            raise KeyError(f"${name} is neither a Grafana macro nor a variable of the dashboard")
        values = self.selected.get(name)
        if values is None:
            return ALL_VALUE
        escaped = [escape_regex(v) for v in values]
        return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def expand(query: str, state: Expansion, variables: Sequence[str]) -> str:
    """``query`` as Grafana sends it; ``variables`` are the dashboard's variable names."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        return state.value(name, variables)

    return _REFERENCE.sub(replace, query)
