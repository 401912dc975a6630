"""响应 Response: are warnings answered (叫应), how fast, and who had to be escalated to."""

from __future__ import annotations

from grafana_foundation_sdk.builders import bargauge, stat, table, timeseries
from grafana_foundation_sdk.builders.common import ReduceDataOptions
from grafana_foundation_sdk.builders.common import TableSortByFieldState as SortBy
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models.common import BarGaugeDisplayMode, GraphDrawStyle, VizOrientation
from grafana_foundation_sdk.models.dashboard import DataTransformerConfig, DynamicConfigValue

from dashboards.layout import Section, assemble
from dashboards.levels import level_colour, level_steps, steps_config
from dashboards.panels import hidden, street_totals
from dashboards.query import STREET_AREA, Select, is_, one_of
from dashboards.target import InfluxQL
from dashboards.variables import variables
from streetwatch.levels import Level

UID = "streetwatch-response"
TITLE = "响应 Response"


def unanswered_now() -> stat.Panel:
    return (
        street_totals(
            "未应答 Unanswered now",
            "现在已经发出预警、还没有任何责任人点“收到”的事件数。不为零就要电话追：发得出、"
            "送得到，还要叫得应。\n\nIncidents paged and not yet acknowledged by anyone.",
            [("unacknowledged", "未应答 unanswered", level_colour(Level.RED))],
        )
        .span(6)
        .height(8)
    )


def unanswered_over_time() -> timeseries.Panel:
    query = Select(
        'max("unacknowledged")',
        "street_status",
        area=STREET_AREA,
        by=("street",),
        per_interval=True,
        fill="previous",
    )
    return (
        timeseries.Panel()
        .title("未应答变化 Unanswered over time")
        .description(
            "每个街道未应答事件数的变化。长时间不回落的街道，应答链有问题（人员、号码、值班）。\n\n"
            "Unanswered incidents per street over the range."
        )
        .span(18)
        .height(8)
        .with_target(InfluxQL(query).alias("$tag_street"))
        .decimals(0)
    )


def unanswered_changes() -> table.Panel:
    query = Select(
        '"id", "open_s", "severity"',
        "incident",
        (is_("state", "open"),),
        area=STREET_AREA,
        by=("street", "hazard", "level"),
    )
    return (
        table.Panel()
        .title("待应答记录 Incidents waiting for an answer")
        .description(
            "事件在“未应答”状态下的每一次变化（新开、升级、重新触发），open_s 是开了多少秒。"
            "同一事件多行时看最后一行。\n\n"
            "Every change of an incident while nobody had answered it; open_s is its age."
        )
        .span(24)
        .height(8)
        .with_target(InfluxQL(query).table())
        .override_by_name("severity", hidden())
        .unit("s")
        .sort_by([SortBy().display_name("Time").desc(True)])
    )


def _group_by(groups: tuple[str, ...], field: str, reduce: list[str]) -> DataTransformerConfig:
    """Grafana's "Group by": one row per value of ``groups``, ``field`` reduced; the reduced
    field is named ``"<field> (<reducer>)"``."""
    fields: dict[str, object] = {g: {"aggregations": [], "operation": "groupby"} for g in groups}
    fields[field] = {"aggregations": reduce, "operation": "aggregate"}
    return DataTransformerConfig(id_val="groupBy", options={"fields": fields})


def time_to(state: str, title: str, description: str) -> table.Panel:
    """Per street: how long incidents took to reach ``state``, mean and longest.

    The hub writes an ``incident`` point at every change, so an incident has several points in
    a state; its first one (the smallest ``open_s``) is when it got there. InfluxQL cannot group
    by a field (the incident id) without a subquery, so Grafana does: per street and incident
    the smallest ``open_s``, then per street the mean, the longest and how many.
    """
    query = Select(
        '"id", "open_s"', "incident", (is_("state", state),), area=STREET_AREA, by=("street",)
    )
    rename = {
        "street": "街道 street",
        "open_s (min) (mean)": "平均 mean",
        "open_s (min) (max)": "最长 longest",
        "open_s (min) (count)": "事件数 incidents",
    }
    return (
        table.Panel()
        .title(title)
        .description(description)
        .span(12)
        .height(8)
        .with_target(InfluxQL(query).table())
        .with_transformation(_group_by(("street", "id"), "open_s", ["min"]))
        .with_transformation(_group_by(("street",), "open_s (min)", ["mean", "max", "count"]))
        .with_transformation(
            DataTransformerConfig(id_val="organize", options={"renameByName": rename})
        )
        .unit("s")
        .override_by_name("事件数 incidents", [DynamicConfigValue("unit", "none")])
    )


def escalations() -> bargauge.Panel:
    query = Select(
        'sum("count")',
        "page",
        (is_("action", "escalated"),),
        area=STREET_AREA,
        by=("street",),
    )
    return (
        bargauge.Panel()
        .title("升级次数 Escalations")
        .description(
            "因为没人应答，预警升级到上一级（社区 → 街道 → 区）的次数。多的街道要检查社区值班。\n\n"
            "Pages that went up a tier (community → street → district) because nobody answered."
        )
        .span(12)
        .height(8)
        .with_target(InfluxQL(query).alias("$tag_street"))
        .reduce_options(ReduceDataOptions().values(False).calcs(["sum"]))
        .orientation(VizOrientation.HORIZONTAL)
        .display_mode(BarGaugeDisplayMode.BASIC)
        .thresholds(steps_config(level_steps()))
        .decimals(0)
    )


def pages_by_channel() -> timeseries.Panel:
    query = Select(
        'sum("count")',
        "page",
        (one_of("action", ("notified", "delivery_failed")), '"channel" =~ /.+/'),
        area=STREET_AREA,
        by=("channel", "action"),
        per_interval=True,
        fill="0",
    )
    return (
        timeseries.Panel()
        .title("发送渠道 Pages by channel")
        .description(
            "每个渠道（即时通讯、短信、邮件、webhook…）送达（notified）和失败（delivery_failed）"
            "的条数。某个渠道失败增多，检查它的配置或服务商。\n\n"
            "Deliveries that went through, and that failed, per channel."
        )
        .span(12)
        .height(8)
        .with_target(InfluxQL(query).alias("$tag_channel $tag_action"))
        .draw_style(GraphDrawStyle.BARS)
        .decimals(0)
    )


def build() -> model.Dashboard:
    return assemble(
        UID,
        TITLE,
        "预警有没有人应答、多快应答和处置、哪里要升级、各渠道送达情况。Answering (叫应).",
        variables=variables("district", "street"),
        sections=[
            Section(
                "应答 Answering",
                [unanswered_now(), unanswered_over_time(), unanswered_changes()],
            ),
            Section(
                "时效 Timeliness",
                [
                    time_to(
                        "acknowledged",
                        "应答用时 Time to acknowledge",
                        "从事件开出到第一次有人点“收到”用了多久，按街道：平均、最长和事件数。"
                        "红色预警要在几分钟内叫应，超过的要复盘。\n\n"
                        "How long incidents waited for their first answer, per street.",
                    ),
                    time_to(
                        "resolved",
                        "处置用时 Time to resolve",
                        "从事件开出到处置完毕（解除）用了多久，按街道。\n\n"
                        "How long incidents lasted until resolved, per street.",
                    ),
                    escalations(),
                    pages_by_channel(),
                ],
            ),
        ],
    )
