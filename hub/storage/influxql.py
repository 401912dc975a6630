"""InfluxQL for a ``QueryFilter``, and ``/query`` results back into rows.

Shared by the InfluxDB 1.x store and the v2 store's ``query_api: influxql`` (InfluxDB 2.x with a
DBRP mapping, 3.x). Every identifier and string literal goes through :func:`ident` and
:func:`literal`, so no id can end the quoted text it sits in (no injection through sensor ids).

The query is ``SELECT * ... GROUP BY *``: grouping by every tag makes InfluxDB return tags as
series tags and only fields as columns, which is how tags and fields are told apart. ``LIMIT``
then counts per series, so each series returns its newest ``limit`` rows and :func:`parse_rows`
keeps the newest ``limit`` of all of them.

Caveat of the JSON format: a float field holding a whole number comes back as a JSON integer
(``31.0`` reads as ``31``); the values compare equal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hub.storage.base import FieldValue, QueryFilter, Row, StorageRejected
from hub.storage.schema import window_measurement

__all__ = ["ident", "literal", "parse_rows", "select"]

_TAG_FILTERS = ("sensor", "gateway", "district", "street", "community")
_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n"})


def ident(name: str) -> str:
    """A double-quoted identifier: ``"water level"``."""
    return '"' + name.translate(_ESCAPES).replace('"', '\\"') + '"'


def literal(value: str) -> str:
    """A single-quoted string literal: ``'it\\'s'``."""
    return "'" + value.translate(_ESCAPES).replace("'", "\\'") + "'"


def _regex(pattern: str) -> str:
    return "/" + pattern.replace("/", "\\/") + "/"


def _source(q: QueryFilter, retention_policy: str) -> str:
    if q.measurement is not None:
        source = ident(q.measurement)
    elif q.kind is not None:
        kind = re.escape(q.kind)
        source = _regex(f"^{kind}$|^{re.escape(window_measurement(q.kind))}$")
    else:
        source = _regex(".*")
    return f"{ident(retention_policy)}.{source}" if retention_policy else source


def select(q: QueryFilter, *, retention_policy: str = "") -> str:
    """``SELECT * FROM ... WHERE ... GROUP BY * ORDER BY time DESC LIMIT n``.

    Time is ``since_ms <= time < until_ms``. ``kind`` selects the kind's raw and window
    measurements; if ``measurement`` is given as well, both must hold.
    """
    if q.limit < 1:
        raise ValueError(f"limit must be at least 1, got {q.limit}")
    where = [f"time >= {int(q.since_ms)}ms"]
    if q.until_ms is not None:
        where.append(f"time < {int(q.until_ms)}ms")
    kind_measurements = (q.kind, window_measurement(q.kind)) if q.kind else ()
    if q.measurement is not None and q.kind is not None and q.measurement not in kind_measurements:
        where.append("false")  # both given, and they disagree: nothing can match
    for tag in _TAG_FILTERS:
        value = getattr(q, tag)
        if value is not None:
            where.append(f"{ident(tag)} = {literal(value)}")
    return (
        f"SELECT * FROM {_source(q, retention_policy)} WHERE {' AND '.join(where)}"
        f" GROUP BY * ORDER BY time DESC LIMIT {int(q.limit)}"
    )


def _error(body: Mapping[str, Any]) -> str | None:
    if "error" in body:
        return str(body["error"])
    for result in body.get("results", ()):
        if "error" in result:
            return str(result["error"])
    return None


def parse_rows(body: Mapping[str, Any], limit: int) -> list[Row]:
    """The newest ``limit`` rows of a ``/query?epoch=ms`` JSON answer, oldest first.

    Raises :class:`StorageRejected` with InfluxDB's message if the answer carries an error.
    """
    error = _error(body)
    if error is not None:
        raise StorageRejected(f"InfluxQL query failed: {error}")
    rows: list[Row] = []
    for result in body.get("results", ()):
        for series in result.get("series", ()):
            name = series["name"]
            tags = {k: v for k, v in (series.get("tags") or {}).items() if v}
            columns = series["columns"]
            for values in series.get("values", ()):
                fields: dict[str, FieldValue] = {
                    c: v for c, v in zip(columns[1:], values[1:], strict=True) if v is not None
                }
                if fields:
                    rows.append(Row(name, int(values[0]), tags, fields))
    rows.sort(key=lambda r: (r.time_ms, r.measurement, sorted(r.tags.items())))
    return rows[-limit:]
