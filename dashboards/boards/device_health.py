"""网关与设备 Gateway and device health: who is online, backed up, low on battery, overdue,
or hard to hear, by sensor kind."""

from __future__ import annotations

from grafana_foundation_sdk.builders import bargauge, table, timeseries
from grafana_foundation_sdk.builders.common import ReduceDataOptions
from grafana_foundation_sdk.builders.common import TableSortByFieldState as SortBy
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models.common import BarGaugeDisplayMode, GraphDrawStyle, VizOrientation

from dashboards.layout import Section, assemble
from dashboards.panels import gateway_table, gateway_timeline, hidden
from dashboards.query import Select, is_, matches, one_of
from dashboards.target import InfluxQL
from dashboards.variables import variables

UID = "streetwatch-device-health"
TITLE = "网关与设备 Gateway and device health"

LOW_BATTERY_PERCENT = 20
"""A sensor whose lowest battery reading in a window is at or below this is listed."""

_WINDOWS_OF_KIND = "/^${kind}_window$/"  # every selected kind's window summaries
_OVERDUE = ("sensor_overdue", "sensor_back")


def buffer_depth() -> timeseries.Panel:
    query = Select(
        'max("buffer_depth_total")',
        "gateway_health",
        by=("gateway",),
        per_interval=True,
        fill="none",
    )
    return (
        timeseries.Panel()
        .title("网关积压 Gateway outbox backlog")
        .description(
            "网关里还没发到中心的消息条数。断网时会上涨，恢复后应回落到零；一直不降说明上行链路有问题。\n\n"
            "Messages waiting in each gateway's outbox: it rises while the uplink is down and "
            "should fall back to zero afterwards."
        )
        .span(12)
        .height(9)
        .with_target(InfluxQL(query).alias("$tag_gateway"))
        .unit("short")
        .decimals(0)
    )


def low_battery() -> table.Panel:
    query = Select(
        'min("battery_min") AS "battery", last("battery_low") AS "battery_low"',
        _WINDOWS_OF_KIND,
        (f'"battery_min" <= {LOW_BATTERY_PERCENT}',),
        by=("street", "community", "sensor"),
    )
    return (
        table.Panel()
        .title("低电量设备 Low battery")
        .description(
            f"所选时间内电量曾低于 {LOW_BATTERY_PERCENT}% 的传感器，请安排更换电池。"
            "电量为设备自己报告的最低值。\n\n"
            f"Sensors whose battery fell to {LOW_BATTERY_PERCENT} % or less: replace the battery."
        )
        .span(12)
        .height(9)
        .with_target(InfluxQL(query).table())
        .override_by_name("Time", hidden())
        .unit("percent")
        .sort_by([SortBy().display_name("battery")])
    )


def anomalies_by_kind() -> bargauge.Panel:
    query = Select(
        'count("id")',
        "anomaly_event",
        (is_("state", "raised"), '"test" = false', matches("kind")),
        by=("kind", "type"),
    )
    return (
        bargauge.Panel()
        .title("设备异常（按类型） Device anomalies by kind")
        .description(
            "所选时间内各类传感器报出的异常次数，按异常类型分（低电量 battery_low、"
            "防拆 tamper、卡死 stuck、跳变 spike 等），测试报警不计。"
            "某一类突然增多，先查是不是一批设备的问题。\n\n"
            "Anomalies raised per sensor kind and type in the range, test alarms left out."
        )
        .span(12)
        .height(9)
        .with_target(InfluxQL(query).alias("$tag_kind $tag_type"))
        .reduce_options(ReduceDataOptions().values(False).calcs(["sum"]))
        .orientation(VizOrientation.HORIZONTAL)
        .display_mode(BarGaugeDisplayMode.BASIC)
        .decimals(0)
    )


def overdue_counts() -> timeseries.Panel:
    query = Select(
        'sum("count")',
        "hub_event",
        (one_of("type", _OVERDUE),),
        by=("type",),
        per_interval=True,
        fill="0",
    )
    return (
        timeseries.Panel()
        .title("超时未报 Sensors overdue")
        .description(
            "传感器超过约定时间没有上报（sensor_overdue）和重新上报（sensor_back）的次数。"
            "超时多而回来少，说明设备没电、坏了或被挡住了信号。\n\n"
            "Sensors that went silent past their reporting deadline, and that came back."
        )
        .span(12)
        .height(9)
        .with_target(InfluxQL(query).alias("$tag_type"))
        .draw_style(GraphDrawStyle.BARS)
        .decimals(0)
    )


def overdue_list() -> table.Panel:
    query = Select(
        '"count", "detail"',
        "hub_event",
        (one_of("type", _OVERDUE),),
        by=("type", "street", "community", "sensor"),
    )
    return (
        table.Panel()
        .title("超时记录 Overdue sensors")
        .description(
            "哪个传感器什么时候超时、什么时候恢复。超时后一直没有恢复记录的，需要上门检查。\n\n"
            "Which sensor went overdue when, and when it came back."
        )
        .span(12)
        .height(9)
        .with_target(InfluxQL(query).table())
        .override_by_name("count", hidden())
        .sort_by([SortBy().display_name("Time").desc(True)])
    )


def signal(metric: str, title: str, unit: str, description: str) -> timeseries.Panel:
    query = Select(
        f'min("{metric}_min")', _WINDOWS_OF_KIND, by=("sensor",), per_interval=True, fill="none"
    )
    return (
        timeseries.Panel()
        .title(title)
        .description(description)
        .span(12)
        .height(9)
        .with_target(InfluxQL(query).alias("$tag_sensor"))
        .unit(unit)
    )


def build() -> model.Dashboard:
    return assemble(
        UID,
        TITLE,
        "网关在不在线、积压多少，设备电量、超时、信号和异常，按传感器类型筛选。Fleet health.",
        variables=variables("district", "street", "community", "kind"),
        sections=[
            Section(
                "网关 Gateways",
                [
                    gateway_table(
                        "网关状态 Gateway state",
                        "每个网关现在是否在线、接了几个传感器、软件版本。\n\n"
                        "Each gateway now: online or not, sensors, software.",
                    ),
                    gateway_timeline(
                        "上下线 Online and offline",
                        "所选时间内网关的上线（出生消息）和掉线（遗嘱消息）。时间段开始前的状态不显示。\n\n"
                        "Gateway births and deaths in the range (the state before it is not "
                        "shown).",
                    ),
                    buffer_depth(),
                ],
            ),
            Section(
                "设备 Devices",
                [
                    low_battery(),
                    anomalies_by_kind(),
                    overdue_counts(),
                    overdue_list(),
                    signal(
                        "rssi",
                        "LoRa 信号强度 LoRa signal (RSSI)",
                        "suffix: dBm",
                        "LoRaWAN 设备每个汇总窗口里最弱的信号强度，低于约 -120 dBm 容易丢包，"
                        "可考虑加网关或调整天线。\n\nWeakest RSSI per window of LoRaWAN sensors.",
                    ),
                    signal(
                        "linkquality",
                        "Zigbee 链路质量 Zigbee link quality",
                        "suffix: LQI",
                        "Zigbee 设备每个汇总窗口里最差的链路质量（0–255），长期低于 50 的设备"
                        "容易掉线，可加中继。\n\nWorst Zigbee link quality per window (0–255).",
                    ),
                ],
            ),
        ],
    )
