"""InfluxQL text for the hub's schema, written once: filters by place and kind, time, grouping.

Every query is plain InfluxQL that InfluxDB 1.x, 2.x (through its v1 compatibility API) and
3.x all run: no Flux, no subqueries, no ``INTO``; one measurement (or a regex over measurement
names) per query. Template variables are multi-value with "All" = ``.*``, so places are always
matched as ``"street" =~ /^$street$/``: Grafana writes a selection as ``(a|b)``, escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AREA",
    "STREET_AREA",
    "TIME_FILTER",
    "UP_TO_RANGE_END",
    "Select",
    "ident",
    "is_",
    "matches",
    "one_of",
]

TIME_FILTER = "$timeFilter"
"""Grafana's time range: ``time >= ...ms and time <= ...ms``."""

UP_TO_RANGE_END = "time <= ${__to}ms"
"""Everything up to the end of the range: for what is written only when it changes (a gateway's
birth, a sensor's announcement), whose latest value may lie before the range."""

AREA: tuple[str, ...] = ("district", "street", "community")
"""The place tags a dashboard filters on, outermost first; each has a variable of its name."""

STREET_AREA: tuple[str, ...] = ("district", "street")
"""The place tags of what is kept per street (``street_status``, ``page``), without community."""


def ident(name: str) -> str:
    """A quoted identifier: ``"street"``."""
    return '"' + name.replace('"', '\\"') + '"'


def is_(tag: str, value: str) -> str:
    """``"type" = 'area_outage'``."""
    return f"{ident(tag)} = '{value}'"


def one_of(tag: str, values: Sequence[str]) -> str:
    """``"action" =~ /^(notified|delivery_failed)$/`` (values are plain words)."""
    return f"{ident(tag)} =~ /^({'|'.join(values)})$/"


def matches(tag: str, variable: str | None = None) -> str:
    """``"street" =~ /^$street$/``: the tag against a template variable (its name by default)."""
    return f"{ident(tag)} =~ /^${variable or tag}$/"


@dataclass(frozen=True, slots=True)
class Select:
    """``SELECT columns FROM source WHERE conditions AND places AND time GROUP BY ...``.

    ``source`` is a measurement name, or a regex over names when it starts with ``/``.
    ``area`` names the place tags to filter on (each against its variable); ``time`` is the
    time condition; ``per_interval`` groups by ``time($__interval)`` before the ``by`` tags.
    """

    columns: str
    source: str
    conditions: tuple[str, ...] = ()
    area: tuple[str, ...] = AREA
    by: tuple[str, ...] = ()
    per_interval: bool = False
    fill: str | None = None
    time: str = TIME_FILTER

    def __str__(self) -> str:
        source = self.source if self.source.startswith("/") else ident(self.source)
        where = [*self.conditions, *(matches(tag) for tag in self.area), self.time]
        text = f"SELECT {self.columns} FROM {source} WHERE {' AND '.join(where)}"
        groups = (["time($__interval)"] if self.per_interval else []) + [ident(t) for t in self.by]
        if groups:
            text += f" GROUP BY {', '.join(groups)}"
        if self.fill is not None:
            text += f" fill({self.fill})"
        return text
