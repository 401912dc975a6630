"""Every query a built dashboard makes Grafana send: panel targets, template variable queries
and annotation queries, read from the dashboard's JSON (what Grafana itself reads)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["SentQuery", "sent_queries", "variable_names"]

Source = Literal["panel", "variable", "annotation"]


@dataclass(frozen=True, slots=True)
class SentQuery:
    board: str  # the dashboard's uid
    source: Source
    name: str  # the panel title, variable name or annotation name
    ref_id: str
    text: str
    datasource: Mapping[str, Any]

    @property
    def label(self) -> str:
        """``streetwatch-response: panel '升级次数 Escalations' A``."""
        ref = "" if self.source == "variable" else f" {self.ref_id}"
        return f"{self.board}: {self.source} {self.name!r}{ref}"


def variable_names(board: Mapping[str, Any]) -> list[str]:
    return [v["name"] for v in board.get("templating", {}).get("list", [])]


def sent_queries(board: Mapping[str, Any]) -> list[SentQuery]:
    """In dashboard order: variables, annotations, then each panel's targets."""
    uid = board["uid"]
    found = []
    for variable in board.get("templating", {}).get("list", []):
        query = variable["query"]
        text = query["query"] if isinstance(query, dict) else query
        ref = query.get("refId", "") if isinstance(query, dict) else ""
        source = variable["datasource"]
        found.append(SentQuery(uid, "variable", variable["name"], ref, text, source))
    for annotation in board.get("annotations", {}).get("list", []):
        target = annotation.get("target", {})
        if "query" in target:
            found.append(SentQuery(uid, "annotation", annotation["name"], target["refId"],
                                   target["query"], annotation["datasource"]))  # fmt: skip
    for panel in board.get("panels", []):
        for target in panel.get("targets", []):
            found.append(SentQuery(uid, "panel", panel["title"], target["refId"],
                                   target["query"], target["datasource"]))  # fmt: skip
    return found
