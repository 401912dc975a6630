"""InfluxQL targets for panels and annotations.

The foundation SDK (Grafana 11.6 schema) ships no InfluxDB query type, so this module supplies
one: a raw InfluxQL query (``rawQuery``), as Grafana's own query editor saves it in code mode,
always on the StreetWatch datasource. Raw mode keeps the query text exactly as written here, so
the text the tests run is the text Grafana sends.
"""

from __future__ import annotations

from typing import Literal, Self

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models.dashboard import AnnotationTarget

from dashboards.datasource import datasource_ref

__all__ = ["Annotation", "InfluxQL", "InfluxQLAnnotationTarget", "InfluxQLTarget", "ResultFormat"]

ResultFormat = Literal["time_series", "table"]


class InfluxQLTarget(cogvariants.Dataquery):
    """One raw InfluxQL query of a panel."""

    def __init__(
        self,
        query: str,
        ref_id: str = "A",
        result_format: ResultFormat = "time_series",
        alias: str | None = None,
    ) -> None:
        self.query = query
        self.ref_id = ref_id
        self.result_format = result_format
        self.alias = alias

    def to_json(self) -> dict[str, object]:
        payload: dict[str, object] = {
            "datasource": datasource_ref(),
            "query": self.query,
            "rawQuery": True,
            "refId": self.ref_id,
            "resultFormat": self.result_format,
        }
        if self.alias is not None:
            payload["alias"] = self.alias
        return payload


class InfluxQL(cogbuilder.Builder[cogvariants.Dataquery]):
    """``InfluxQL(text).ref_id("B").table()``: a panel target."""

    def __init__(self, query: object) -> None:
        self._internal = InfluxQLTarget(str(query))

    def build(self) -> InfluxQLTarget:
        return self._internal

    def ref_id(self, ref_id: str) -> Self:
        self._internal.ref_id = ref_id
        return self

    def table(self) -> Self:
        """Rows and columns (tags as columns) instead of one series per tag set."""
        self._internal.result_format = "table"
        return self

    def alias(self, alias: str) -> Self:
        """Series name pattern, e.g. ``$tag_sensor``."""
        self._internal.alias = alias
        return self


class InfluxQLAnnotationTarget(AnnotationTarget):
    """An InfluxQL annotation query as Grafana 11's InfluxDB annotation editor saves it."""

    def __init__(self, query: str, text_column: str, tags_columns: tuple[str, ...]) -> None:
        super().__init__()
        self.query = query
        self.text_column = text_column
        self.tags_columns = tags_columns

    def to_json(self) -> dict[str, object]:
        return {
            "fromAnnotations": True,
            "query": self.query,
            "rawQuery": True,
            "refId": "Anno",
            "tagsColumn": ",".join(self.tags_columns),
            "textColumn": self.text_column,
            "textEditor": True,
        }


class Annotation(cogbuilder.Builder[AnnotationTarget]):
    """The target of an annotation: events with a text and tags, from an InfluxQL query."""

    def __init__(self, query: object, *, text: str, tags: tuple[str, ...]) -> None:
        self._internal = InfluxQLAnnotationTarget(str(query), text, tags)

    def build(self) -> InfluxQLAnnotationTarget:
        return self._internal
