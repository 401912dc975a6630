"""A dashboard from its parts: rows of panels, variables, annotations, stable panel ids.

Panel ids are numbered in reading order (1, 2, ...), so the same code always gives the same
JSON and a panel link (``viewPanel=3``) keeps pointing at the same panel after a rebuild. Every
panel names the StreetWatch datasource itself, as its queries do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grafana_foundation_sdk.builders.dashboard import AnnotationQuery, Dashboard, Row
from grafana_foundation_sdk.builders.dashboard import QueryVariable as _Variable
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import dashboard as model

from dashboards.datasource import datasource_ref

__all__ = ["TAG", "Section", "assemble"]

TAG = "streetwatch"
"""Every StreetWatch dashboard carries this tag (search, dashboard links)."""


@dataclass(frozen=True, slots=True)
class Section:
    """A row title and the panels under it."""

    title: str
    panels: Sequence[cogbuilder.Builder[model.Panel]]


def assemble(
    uid: str,
    title: str,
    description: str,
    *,
    variables: list[_Variable],
    sections: Sequence[Section],
    annotations: Sequence[AnnotationQuery] = (),
) -> model.Dashboard:
    board = (
        Dashboard(title)
        .uid(uid)
        .description(description)
        .tags([TAG])
        .timezone("browser")
        .time("now-6h", "now")
        .refresh("1m")
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .variables(list(variables))
    )
    for annotation in annotations:
        board.annotation(annotation)
    for section in sections:
        board.with_row(Row(section.title))
        for panel in section.panels:
            board.with_panel(panel)
    built = board.build()
    for number, item in enumerate(built.panels or [], start=1):
        item.id_val = number
        if isinstance(item, model.Panel):  # the panel's own datasource, as its targets'
            item.datasource = datasource_ref()
    return built
