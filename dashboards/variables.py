"""Template variables: district, street, community and sensor kind, each narrowed by the ones
before it on the same dashboard.

All are query variables (``SHOW TAG VALUES``), multi-value with "All" meaning ``.*``, so a
panel matches them as ``"street" =~ /^$street$/`` whatever is picked.
"""

from __future__ import annotations

from dataclasses import dataclass

from grafana_foundation_sdk.builders.dashboard import QueryVariable
from grafana_foundation_sdk.models.dashboard import VariableOption, VariableRefresh, VariableSort

from dashboards.datasource import datasource_ref
from dashboards.query import ident, matches

__all__ = ["ALL_VALUE", "VARIABLES", "VariableSpec", "tag_values_query", "variables"]

ALL_VALUE = ".*"
"""What "All" stands for in a query: any value, without listing every one of them."""

_EDITOR_REF_ID = "InfluxVariableQueryEditor-VariableQuery"  # what Grafana's editor saves


@dataclass(frozen=True, slots=True)
class VariableSpec:
    name: str  # also the tag it lists
    label: str
    measurement: str  # where its values are read
    description: str


VARIABLES: tuple[VariableSpec, ...] = (
    VariableSpec("district", "区 District", "gateway_state", "区：选一个或几个区。District."),
    VariableSpec("street", "街道 Street", "gateway_state", "街道（所选区内）。Street."),
    VariableSpec("community", "社区 Community", "gateway_state", "社区（所选街道内）。Community."),
    VariableSpec("kind", "传感器 Sensor kind", "sensor_info", "传感器类型。Sensor kind."),
)
"""Every variable, outermost first: each is narrowed by the earlier ones a dashboard has."""


def tag_values_query(spec: VariableSpec, parents: tuple[str, ...]) -> str:
    """``SHOW TAG VALUES FROM "gateway_state" WITH KEY = "street" WHERE "district" =~ ...``."""
    text = f"SHOW TAG VALUES FROM {ident(spec.measurement)} WITH KEY = {ident(spec.name)}"
    if parents:
        text += " WHERE " + " AND ".join(matches(p) for p in parents)
    return text


def variables(*names: str) -> list[QueryVariable]:
    """The variables called ``names`` (in the order of ``VARIABLES``), chained."""
    unknown = set(names) - {v.name for v in VARIABLES}
    if unknown:
        raise ValueError(f"no template variable called {', '.join(sorted(unknown))}")
    chosen = [v for v in VARIABLES if v.name in names]
    built = []
    for i, spec in enumerate(chosen):
        parents = tuple(p.name for p in chosen[:i])
        built.append(
            QueryVariable(spec.name)
            .label(spec.label)
            .description(spec.description)
            .datasource(datasource_ref())
            .query({"query": tag_values_query(spec, parents), "refId": _EDITOR_REF_ID})
            .multi(True)
            .include_all(True)
            .all_value(ALL_VALUE)
            .current(VariableOption(selected=True, text=["All"], value=["$__all"]))
            .refresh(VariableRefresh.ON_DASHBOARD_LOAD)
            .sort(VariableSort.ALPHABETICAL_ASC)
        )
    return built
