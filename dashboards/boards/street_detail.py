"""街道详情 Street detail: one street's sensors, gateways and incidents over time."""

from __future__ import annotations

from grafana_foundation_sdk.builders import stat, timeseries
from grafana_foundation_sdk.builders.common import ReduceDataOptions
from grafana_foundation_sdk.builders.dashboard import AnnotationQuery
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models.common import BigValueColorMode, BigValueGraphMode

from dashboards.datasource import datasource_ref
from dashboards.layout import Section, assemble
from dashboards.panels import gateway_table, sensor_graph
from dashboards.query import STREET_AREA, Select, is_, matches
from dashboards.target import Annotation, InfluxQL
from dashboards.variables import variables
from streetwatch.kinds import KindName

UID = "streetwatch-street-detail"
TITLE = "街道详情 Street detail"


def incidents_annotation() -> AnnotationQuery:
    """Every incident change of the street (and of its district) as a marker on the graphs."""
    street = f"({matches('street')} OR {is_('street', '*')})"  # district-wide ones: street '*'
    query = Select(
        '"id", "open_s", "hazard", "level", "state"',
        "incident",
        (street,),
        area=("district",),
    )
    return (
        AnnotationQuery()
        .name("事件 Incidents")
        .datasource(datasource_ref())
        .enable(True)
        .icon_color("red")
        .target(Annotation(query, text="id", tags=("hazard", "level", "state")))
    )


def water() -> timeseries.Panel:
    return sensor_graph(
        KindName.WATER_LEVEL,
        "depth",
        "max",
        "积水深度 Water depth",
        (
            "各积水传感器的水深（厘米）。每分钟涨几厘米说明排水跟不上，要提前封路、转移车辆。",
            "Water depth at each gauge (cm). A rise of several cm a minute is the early warning.",
        ),
    )


def gas() -> timeseries.Panel:
    return sensor_graph(
        KindName.GAS,
        "lel",
        "max",
        "可燃气体 Gas %LEL",
        (
            "各燃气探测器的浓度（爆炸下限的百分比）。消毒液、杀虫剂喷雾会造成一两分钟的尖峰。",
            "Combustible gas at each detector (%LEL). Sprays cause spikes of a minute or two.",
        ),
    )


def smoke() -> timeseries.Panel:
    return sensor_graph(
        KindName.SMOKE,
        "smoke_density",
        "max",
        "烟雾浓度 Smoke density",
        (
            "报告烟雾浓度的烟感（dB/m）；只报报警状态的烟感没有曲线，看“风险一张图”。",
            "Smoke obscuration (dB/m) of the detectors that report a density.",
        ),
    )


def hydrant() -> timeseries.Panel:
    return sensor_graph(
        KindName.HYDRANT,
        "pressure",
        "min",
        "消火栓压力 Hydrant pressure",
        (
            "各消火栓的管网压力（MPa）。同一街道几个消火栓同时骤降，可能是主管爆管。",
            "Mains pressure at each hydrant (MPa). Several dropping together: a burst main.",
        ),
    )


def gateways_online() -> stat.Panel:
    query = Select(
        'last("gateways_online") AS "在线 online", last("gateways_total") AS "总数 total"',
        "street_status",
        area=STREET_AREA,
        by=("street",),
    )
    return (
        stat.Panel()
        .title("网关在线 Gateways online")
        .description(
            "所选街道现在在线的网关数和总数。在线少于总数时，那些社区的传感器数据收不到，"
            "请通知运维。\n\nGateways online now, and how many the street has."
        )
        .span(6)
        .height(9)
        .with_target(InfluxQL(query).table())
        .reduce_options(ReduceDataOptions().values(False).calcs(["sum"]))
        .color_mode(BigValueColorMode.NONE)
        .graph_mode(BigValueGraphMode.NONE)
        .decimals(0)
    )


def build() -> model.Dashboard:
    gateways = gateway_table(
        "网关状态 Gateway state",
        "每个网关现在是否在线、接了几个传感器、软件版本。离线的网关排查供电和网络。\n\n"
        "Each gateway now: online or not, how many sensors, which software.",
    ).span(18)
    return assemble(
        UID,
        TITLE,
        "一个街道的积水、燃气、烟雾、消火栓和网关，事件以竖线标在图上。One street in detail.",
        variables=variables("district", "street", "community"),
        sections=[
            Section("传感器 Sensors", [water(), gas(), smoke(), hydrant()]),
            Section("网关 Gateways", [gateways_online(), gateways]),
        ],
        annotations=[incidents_annotation()],
    )
