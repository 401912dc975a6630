"""Panels more than one dashboard shows, and the small pieces every panel uses."""

from __future__ import annotations

from collections.abc import Sequence

from grafana_foundation_sdk.builders import stat, statetimeline, table, timeseries
from grafana_foundation_sdk.builders.common import GraphThresholdsStyleConfig, ReduceDataOptions
from grafana_foundation_sdk.builders.dashboard import FieldColor
from grafana_foundation_sdk.models.common import (
    BigValueColorMode,
    BigValueGraphMode,
    GraphThresholdsStyleMode,
    VisibilityMode,
)
from grafana_foundation_sdk.models.dashboard import (
    DynamicConfigValue,
    FieldColorModeId,
    ValueMap,
    ValueMapping,
    ValueMappingResult,
)

from dashboards.levels import kind_steps, level_colour, steps_config, thresholds_text, unit_of
from dashboards.query import STREET_AREA, UP_TO_RANGE_END, Select
from dashboards.target import InfluxQL
from streetwatch.kinds import KindName
from streetwatch.levels import Level

__all__ = [
    "coloured_cells",
    "fixed_colour",
    "flag_mappings",
    "gateway_table",
    "gateway_timeline",
    "hidden",
    "sensor_graph",
    "street_totals",
    "window_measurement",
]


def window_measurement(kind: KindName) -> str:
    """Where the hub stores a kind's window summaries (docs/storage.md)."""
    return f"{kind.value}_window"


def fixed_colour(colour: str) -> list[DynamicConfigValue]:
    """Override properties that paint a field in one colour."""
    return [DynamicConfigValue("color", {"mode": "fixed", "fixedColor": colour})]


def coloured_cells() -> list[DynamicConfigValue]:
    """Override properties that colour a table cell's background by its value."""
    return [DynamicConfigValue("custom.cellOptions", {"type": "color-background"})]


def hidden() -> list[DynamicConfigValue]:
    """Override properties that hide a table column (e.g. the ``Time`` of an aggregate)."""
    return [DynamicConfigValue("custom.hidden", True)]


def flag_mappings(yes: tuple[str, Level], no: tuple[str, Level]) -> list[ValueMapping]:
    """A boolean shown as words in level colours: ``yes=("失联 cut off", Level.RED)``."""
    options = {
        "true": ValueMappingResult(text=yes[0], color=level_colour(yes[1]), index=0),
        "false": ValueMappingResult(text=no[0], color=level_colour(no[1]), index=1),
    }
    return [ValueMap(options)]


def sensor_graph(
    kind: KindName, metric: str, worst: str, title: str, advice: tuple[str, str]
) -> timeseries.Panel:
    """A metric of every sensor of a kind, raw readings and window summaries, with the kind
    table's thresholds drawn as lines and coloured bands (and spelled out in the description,
    after ``advice``: what to look for, Chinese and English).

    ``worst`` is ``max`` where higher is worse (depth, gas), ``min`` where lower is (pressure).
    """
    zh, en = thresholds_text(kind, metric)
    description = f"{advice[0]}预警线（传感器表）：{zh}。\n\n{advice[1]} Warning lines: {en}."
    raw = Select(
        f'{worst}("{metric}")',
        kind.value,
        conditions=("\"quality\" <> 'fault'",),
        by=("sensor",),
        per_interval=True,
        fill="none",
    )
    window = Select(
        f'{worst}("{metric}_{worst}")',
        window_measurement(kind),
        by=("sensor",),
        per_interval=True,
        fill="none",
    )
    return (
        timeseries.Panel()
        .title(title)
        .description(description)
        .span(12)
        .height(9)
        .with_target(InfluxQL(raw).ref_id("A").alias("$tag_sensor"))
        .with_target(InfluxQL(window).ref_id("B").alias("$tag_sensor 汇总 window"))
        .unit(unit_of(kind, metric))
        .thresholds(steps_config(kind_steps(kind, metric)))
        .thresholds_style(GraphThresholdsStyleConfig().mode(GraphThresholdsStyleMode.LINE_AND_AREA))
        .color_scheme(FieldColor().mode(FieldColorModeId.PALETTE_CLASSIC))
        .span_nulls(True)
    )


def gateway_table(title: str, description: str) -> table.Panel:
    """Each gateway's state now (at the end of the range): online, sensors, software."""
    query = Select(
        'last("online") AS "online", last("sensors") AS "sensors", last("software") AS "software"',
        "gateway_state",
        by=("street", "community", "gateway"),
        time=UP_TO_RANGE_END,
    )
    return (
        table.Panel()
        .title(title)
        .description(description)
        .span(12)
        .height(9)
        .with_target(InfluxQL(query).table())
        .mappings(flag_mappings(("在线 online", Level.NONE), ("离线 offline", Level.RED)))
        .override_by_name("online", coloured_cells())
        .override_by_name("Time", hidden())
    )


def gateway_timeline(title: str, description: str) -> statetimeline.Panel:
    """Births and deaths of each gateway in the range, as bands."""
    query = Select(
        'last("online")', "gateway_state", by=("gateway",), per_interval=True, fill="previous"
    )
    return (
        statetimeline.Panel()
        .title(title)
        .description(description)
        .span(12)
        .height(9)
        .with_target(InfluxQL(query).alias("$tag_gateway"))
        .mappings(flag_mappings(("在线 online", Level.NONE), ("离线 offline", Level.RED)))
        .show_value(VisibilityMode.NEVER)
    )


def street_totals(
    title: str,
    description: str,
    columns: Sequence[tuple[str, str, str]],
) -> stat.Panel:
    """Numbers summed over the selected streets, from each street's latest ``street_status``.

    ``columns``: (field, label, colour). Each street's last value in the range, one row per
    street, then the panel adds the rows up (no subquery, which InfluxDB 3 may lack).
    """
    selected = ", ".join(f'last("{f}") AS "{label}"' for f, label, _ in columns)
    query = Select(selected, "street_status", area=STREET_AREA, by=("street",))
    panel = (
        stat.Panel()
        .title(title)
        .description(description)
        .with_target(InfluxQL(query).table())
        .reduce_options(ReduceDataOptions().values(False).calcs(["sum"]))
        .color_mode(BigValueColorMode.BACKGROUND)
        .graph_mode(BigValueGraphMode.NONE)
        .no_value("0")
        .decimals(0)
    )
    for _, label, colour in columns:
        panel.override_by_name(label, fixed_colour(colour))
    return panel
