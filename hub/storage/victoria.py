"""Reading points back from VictoriaMetrics' ``/api/v1/export``.

VictoriaMetrics stores InfluxDB line protocol as one series per field, named
``<measurement>_<field>``, with the tags as labels (tested on 1.79.5; see docs/storage.md):
bools become 1 and 0, and a string field becomes a series of zeros (so the writer drops string
fields, :func:`numeric_points`). Rows are rebuilt by splitting each series name at the longest
known measurement name (``water_level_window_depth_min`` → ``water_level_window``,
``depth_min``) and joining the samples of one series key and time into one row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import httpx
import orjson

from hub.storage.base import FieldValue, Point, QueryFilter, Row
from hub.storage.influx_v1 import check_response, http_errors
from hub.storage.schema import MEASUREMENTS, window_measurement

__all__ = ["export", "numeric_points", "parse_export", "selector"]

_TAG_FILTERS = ("sensor", "gateway", "district", "street", "community")


def numeric_points(points: Iterable[Point]) -> list[Point]:
    """The points without their string fields; points left with no field are dropped."""
    kept: list[Point] = []
    for p in points:
        fields = {k: v for k, v in p.fields.items() if not isinstance(v, str)}
        if len(fields) == len(p.fields):
            kept.append(p)
        elif fields:
            kept.append(Point(p.measurement, p.tags, fields, p.time_ms))
    return kept


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _measurements(q: QueryFilter) -> list[str]:
    if q.kind is not None:
        of_kind = [q.kind, window_measurement(q.kind)]
        if q.measurement is None:
            return of_kind
        return [q.measurement] if q.measurement in of_kind else []
    return [q.measurement] if q.measurement is not None else sorted(MEASUREMENTS)


def selector(q: QueryFilter) -> str | None:
    """The series selector for ``q``, or None when nothing can match."""
    names = _measurements(q)
    if not names:
        return None
    alternatives = "|".join(re.escape(m) for m in names)
    matchers = [f"__name__=~{_quote(f'(?:{alternatives})_.+')}"]
    matchers += [f"{t}={_quote(v)}" for t in _TAG_FILTERS if (v := getattr(q, t)) is not None]
    return "{" + ", ".join(matchers) + "}"


def _split(name: str, measurements: Sequence[str]) -> tuple[str, str] | None:
    best = max((m for m in measurements if name.startswith(m + "_")), key=len, default=None)
    return None if best is None else (best, name[len(best) + 1 :])


def parse_export(content: bytes, q: QueryFilter) -> list[Row]:
    """Rows from export lines (one JSON series per line): the newest ``q.limit``, oldest first."""
    names = _measurements(q)
    known = sorted({*names, *MEASUREMENTS})  # water_level_window_* is not water_level's
    rows: dict[tuple[str, tuple[tuple[str, str], ...], int], dict[str, FieldValue]] = {}
    for line in content.splitlines():
        if not line.strip():
            continue
        series = orjson.loads(line)
        labels: dict[str, str] = dict(series["metric"])
        split = _split(labels.pop("__name__", ""), known)
        if split is None or split[0] not in names:
            continue
        measurement, field = split
        tags = tuple(sorted(labels.items()))
        for value, t in zip(series["values"], series["timestamps"], strict=True):
            if q.until_ms is None or t < q.until_ms:
                rows.setdefault((measurement, tags, int(t)), {})[field] = value
    ordered = sorted(rows.items(), key=lambda item: (item[0][2], item[0][0], item[0][1]))
    return [Row(m, t, dict(tags), fields) for (m, tags, t), fields in ordered[-q.limit :]]


async def export(client: httpx.AsyncClient, q: QueryFilter, where: str) -> list[Row]:
    """Query ``q`` through ``client`` (its base URL: VictoriaMetrics)."""
    if q.limit < 1:
        raise ValueError(f"limit must be at least 1, got {q.limit}")
    match = selector(q)
    if match is None:
        return []
    params = {"match[]": match, "start": f"{q.since_ms / 1000:.3f}"}
    if q.until_ms is not None:
        params["end"] = f"{(q.until_ms - 1) / 1000:.3f}"  # export's end is inclusive
    with http_errors(where):
        response = await client.get("/api/v1/export", params=params)
    check_response(response, where)
    return parse_export(response.content, q)
