"""风险一张图 City risk map: every street and sensor on one map, coloured by its level now."""

from __future__ import annotations

from grafana_foundation_sdk.builders import geomap, stat, statetimeline, table
from grafana_foundation_sdk.builders.common import FrameGeometrySource, MapLayerOptions
from grafana_foundation_sdk.builders.common import TableSortByFieldState as SortBy
from grafana_foundation_sdk.builders.dashboard import FieldColor
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models.common import FrameGeometrySourceMode, VisibilityMode
from grafana_foundation_sdk.models.dashboard import (
    DynamicConfigValue,
    FieldColorModeId,
    Threshold,
    ValueMap,
    ValueMappingResult,
)
from grafana_foundation_sdk.models.geomap import TooltipMode

from dashboards.layout import Section, assemble
from dashboards.levels import (
    level_colour,
    level_label,
    level_mappings,
    level_steps,
    severity_properties,
    steps_config,
)
from dashboards.panels import coloured_cells, flag_mappings, hidden, street_totals
from dashboards.query import STREET_AREA, UP_TO_RANGE_END, Select, matches, one_of
from dashboards.target import InfluxQL
from dashboards.variables import variables
from streetwatch.levels import WARNING_LEVELS, Level

UID = "streetwatch-risk-map"
TITLE = "风险一张图 City risk map"

_STREETS, _ANOMALIES, _SENSORS, _GATEWAYS = "A", "B", "C", "D"
_SEVERITY = "severity"
_UP = "up"  # gateway_state: 1 online, 0 offline
_GREY = "#8e8e8e"


def _layer(
    name: str,
    ref_id: str,
    coloured: bool,
    size: int,
    text: str | None,
    *,
    by: str = _SEVERITY,
    symbol: str = "circle",
) -> MapLayerOptions:
    """Markers at lat/lon of one query's rows; ``coloured`` by the field ``by`` (and, for
    severity, sized by it, so a sensor's worst anomaly stays visible under its milder ones),
    else small and grey."""
    size_by: dict[str, object] = {"fixed": size}
    if coloured and by == _SEVERITY:
        size_by = {"field": _SEVERITY, "fixed": size, "min": size // 2, "max": size}
    style: dict[str, object] = {
        "color": {"field": by, "fixed": _GREY} if coloured else {"fixed": _GREY},
        "opacity": 0.85 if coloured else 0.4,
        "size": size_by,
        "symbol": {"fixed": f"img/icons/marker/{symbol}.svg", "mode": "fixed"},
    }
    if text is not None:
        style["text"] = {"field": text, "mode": "field"}
        style["textConfig"] = {"fontSize": 12, "offsetY": -size - 4, "textAlign": "center"}
    return (
        MapLayerOptions()
        .type("markers")
        .name(name)
        .config({"showLegend": coloured, "style": style})
        .location(
            FrameGeometrySource()
            .mode(FrameGeometrySourceMode.COORDS)
            .latitude("lat")
            .longitude("lon")
        )
        .filter_data({"id": "byRefId", "options": ref_id})
        .tooltip(True)
    )


def risk_map() -> geomap.Panel:
    streets = Select(
        'last("severity") AS "severity", last("open_incidents") AS "open_incidents", '
        'last("lat") AS "lat", last("lon") AS "lon"',
        "street_status",
        area=STREET_AREA,
        by=STREET_AREA,
    )
    # As of the end of the range: a sensor still in alarm since before the range stays red.
    # One row per anomaly type and metric of a sensor (a cleared one has severity 0).
    anomalies = Select(
        'last("severity") AS "severity", last("lat") AS "lat", last("lon") AS "lon"',
        "anomaly_event",
        ('"test" = false', matches("kind")),
        area=STREET_AREA,
        by=("street", "community", "sensor", "kind", "type", "metric"),
        time=UP_TO_RANGE_END,
    )
    sensors = Select(
        'last("lat") AS "lat", last("lon") AS "lon"',
        "sensor_info",
        (matches("kind"),),
        area=STREET_AREA,
        by=("street", "community", "sensor", "kind"),
        time=UP_TO_RANGE_END,
    )
    gateways = Select(
        'last("up") AS "up", last("lat") AS "lat", last("lon") AS "lon"',
        "gateway_state",
        area=STREET_AREA,
        by=("street", "community", "gateway"),
        time=UP_TO_RANGE_END,
    )
    return (
        geomap.Panel()
        .title(TITLE)
        .description(
            "每个街道一个大圆点，颜色是该街道现在最高的未处置事件等级（绿=正常，蓝/黄/橙/红=四级预警）；"
            "小圆点是传感器：灰色为所有传感器的位置，彩色为有异常的传感器（按它最严重的异常着色）。"
            "方块是网关：绿色在线，红色离线。鼠标移到点上看街道名、事件数和传感器编号。\n\n"
            "Big dots: streets, coloured by their worst open incident now (green = normal). "
            "Small dots: sensors; grey = every sensor, coloured = sensors with an anomaly, by "
            "their worst one. Squares: gateways, green online, red offline. Hover for names and "
            "numbers."
        )
        .span(16)
        .height(18)
        .with_target(InfluxQL(streets).ref_id(_STREETS).table())
        .with_target(InfluxQL(anomalies).ref_id(_ANOMALIES).table())
        .with_target(InfluxQL(sensors).ref_id(_SENSORS).table())
        .with_target(InfluxQL(gateways).ref_id(_GATEWAYS).table())
        .view(geomap.MapViewConfig().id("fit").all_layers(True).padding(10).max_zoom(17))
        .controls(geomap.ControlsOptions().show_zoom(True).mouse_wheel_zoom(True))
        .basemap(MapLayerOptions().type("default").name("底图 Basemap"))
        .layers(
            [
                _layer("所有传感器 All sensors", _SENSORS, False, 3, None),
                _layer("传感器异常 Sensor anomalies", _ANOMALIES, True, 8, None),
                _layer("网关 Gateways", _GATEWAYS, True, 10, None, by=_UP, symbol="square"),
                _layer("街道 Streets", _STREETS, True, 16, "street"),
            ]
        )
        .tooltip(geomap.TooltipOptions().mode(TooltipMode.DETAILS))
        .override_by_name(_SEVERITY, severity_properties())
        .override_by_name(_UP, _up_properties())
    )


def _up_properties() -> list[DynamicConfigValue]:
    """A gateway's ``up``: 1 online in green, 0 offline in red, shown as words."""
    online = ValueMappingResult(text="在线 online", color=level_colour(Level.NONE), index=0)
    offline = ValueMappingResult(text="离线 offline", color=level_colour(Level.RED), index=1)
    steps = [Threshold(None, level_colour(Level.RED)), Threshold(1, level_colour(Level.NONE))]
    return [
        DynamicConfigValue("thresholds", steps_config(steps).build()),
        DynamicConfigValue("mappings", [ValueMap({"1": online, "0": offline})]),
        DynamicConfigValue("color", {"mode": "thresholds"}),
    ]


def open_incidents() -> stat.Panel:
    columns = [(f"open_{lv.value}", level_label(lv), level_colour(lv)) for lv in WARNING_LEVELS]
    return (
        street_totals(
            "未处置事件 Open incidents by level",
            "所选街道现在还没有处置完的事件数（含已应答、未结束的），按预警等级分列。"
            "红色、橙色不为零时，请盯住“响应”看板的应答情况。\n\n"
            "Incidents not yet over in the selected streets (answered or not), per warning level.",
            columns,
        )
        .span(8)
        .height(9)
    )


def cut_off() -> table.Panel:
    query = Select(
        'last("cut_off") AS "cut_off", last("gateways_online") AS "gateways_online", '
        'last("gateways_total") AS "gateways_total"',
        "street_status",
        area=STREET_AREA,
        by=STREET_AREA,
    )
    return (
        table.Panel()
        .title("断网断电街道 Streets cut off")
        .description(
            "每个街道现在能不能“看得见”：失联表示整个街道或其中一个社区的网关大面积掉线（断电、断网），"
            "那里的传感器数据暂时收不到，请电话联系街道核实现场。在线/总数是街道网关数。\n\n"
            "Whether each street can still be seen: 'cut off' means most gateways of the street "
            "or of one of its communities went silent together (power or network loss). Call "
            "the street office to check on site."
        )
        .span(8)
        .height(9)
        .with_target(InfluxQL(query).table())
        .mappings(flag_mappings(("失联 cut off", Level.RED), ("正常 connected", Level.NONE)))
        .override_by_name("cut_off", coloured_cells())
        .override_by_name("Time", hidden())
        .sort_by([SortBy().display_name("cut_off").desc(True)])
    )


def street_levels() -> statetimeline.Panel:
    query = Select(
        'max("severity")',
        "street_status",
        area=STREET_AREA,
        by=("street",),
        per_interval=True,
        fill="previous",
    )
    return (
        statetimeline.Panel()
        .title("街道等级变化 Street level over time")
        .description(
            "每个街道在所选时间内的最高事件等级，一行一个街道。看哪里先升级、持续多久。\n\n"
            "Each street's worst open incident level over the range, one band per street."
        )
        .span(24)
        .height(8)
        .with_target(InfluxQL(query).alias("$tag_street"))
        .thresholds(steps_config(level_steps()))
        .mappings(level_mappings())
        .color_scheme(FieldColor().mode(FieldColorModeId.THRESHOLDS))
        .show_value(VisibilityMode.NEVER)
    )


def area_outages() -> table.Panel:
    query = Select(
        '"gateways", "detail", "count"',
        "hub_event",
        (one_of("type", ("area_outage", "area_restored")),),
        area=STREET_AREA,
        by=("type", "level", "street", "community"),
    )
    return (
        table.Panel()
        .title("区域断网记录 Area outages")
        .description(
            "所选时间内整片掉线（area_outage）和恢复（area_restored）的记录：哪个街道或社区、"
            "涉及哪些网关。社区级为黄色，街道级为橙色。\n\n"
            "When a community or a whole street lost most of its gateways together, and when "
            "they came back, with the gateways concerned."
        )
        .span(24)
        .height(8)
        .with_target(InfluxQL(query).table())
        .override_by_name("count", hidden())
        .sort_by([SortBy().display_name("Time").desc(True)])
    )


def build() -> model.Dashboard:
    return assemble(
        UID,
        TITLE,
        "全市街道和传感器的现况：哪里有险情、什么等级、哪里失联。City risk at a glance.",
        variables=variables("district", "street", "kind"),
        sections=[
            Section("现在 Now", [risk_map(), open_incidents(), cut_off()]),
            Section("变化 Over time", [street_levels(), area_outages()]),
        ],
    )
