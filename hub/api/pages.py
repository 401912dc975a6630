"""The small HTML pages a one-tap acknowledgement link answers, Chinese first, then English.

Self-contained (inline style, no script, no external request) so they load on any phone over
a weak connection. Every value is escaped. Times are China Standard Time (UTC+8, no DST).

Opening a link only shows :func:`confirm`: the incident and one button whose plain form posts
back to the same URL, which acknowledges. SMS and chat apps fetch links to preview them, so
opening must change nothing. A link sent for a lower level than the incident has now shows
:func:`outdated` instead (no button): the person is told the new level and to use the newer
message. No page is to be cached or indexed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from html import escape

from hub.api.service import ResponderInfo
from hub.incidents.model import Incident, IncidentState
from hub.notify.links import RefusalReason
from streetwatch.levels import Level

__all__ = ["HEADERS", "acknowledged", "closed", "confirm", "outdated", "refused", "unknown"]

CST = timezone(timedelta(hours=8), "CST")

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the URL
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
    ),
}

_STYLE = (
    "body{font-family:system-ui,-apple-system,'PingFang SC','Microsoft YaHei',sans-serif;"
    "margin:0;padding:1.2em;line-height:1.6;font-size:18px;color:#222}"
    "h1{font-size:1.6em;margin:.2em 0}.en{color:#666;font-size:.85em}"
    "dl{display:grid;grid-template-columns:auto 1fr;gap:.3em .8em}dt{color:#666}dd{margin:0}"
    ".ok{color:#17803d}.no{color:#b42318}.ask{color:#b54708}"
    "button{display:block;width:100%;min-height:3.2em;margin:1.2em 0;padding:.6em;border:0;"
    "border-radius:.5em;background:#17803d;color:#fff;font:inherit;font-size:1.3em;"
    "font-weight:600}"
)

_STATE_ZH = {
    IncidentState.OPEN: "未确认",
    IncidentState.ACKNOWLEDGED: "已确认",
    IncidentState.RESOLVED: "已解除",
    IncidentState.CLOSED: "已关闭",
}

_REFUSED: dict[RefusalReason, tuple[str, str]] = {
    "forged": ("链接无效", "This link is not valid."),
    "expired": ("链接已过期", "This link has expired."),
    "malformed": (
        "链接不完整",
        "This link is incomplete or damaged; open it again from the original message.",
    ),
    "reused": (
        "链接已使用",
        "This link was already used. If you acknowledged with it, nothing more is needed.",
    ),
    "outdated": (  # the app answers :func:`outdated`, which names the levels
        "情况已升级，请使用最新通知中的链接",
        "The situation has become more serious; use the link in the newest message.",
    ),
}

_FALLBACK = (
    "如需确认，请在值班 App 中操作，或回复通知、致电值班室。",
    "To acknowledge, use the duty app, reply to the notification or call the duty office.",
)


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(CST).strftime("%Y-%m-%d %H:%M")


def _page(title: str, css: str, heading: str, english: str, body: str = "") -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f'<h1 class="{css}">{escape(heading)}</h1><p class="en">{escape(english)}</p>'
        f"{body}</body></html>"
    )


def _summary(incident: Incident) -> str:
    place = " ".join(p for p in (incident.district, incident.street, incident.community) if p)
    rows = [
        ("事件 Incident", f"{incident.hazard.zh} · {incident.level.zh}"),
        ("地点 Place", place),
        ("发生 Opened", _time(incident.opened_at)),
        ("状态 State", _STATE_ZH[incident.state]),
        ("编号 Id", incident.id),
    ]
    if incident.acknowledged_at is not None:
        rows.append(
            ("确认 By", f"{incident.acknowledged_by or ''} {_time(incident.acknowledged_at)}")
        )
    cells = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    return f"<dl>{cells}</dl>"


def confirm(incident: Incident, responder_id: str, who: ResponderInfo | None) -> str:
    """What opening a link shows: the incident and the one button that acknowledges.

    The form has no ``action``: it posts to the URL the page came from (``/ack/<token>``, behind
    whatever prefix a proxy adds), so the token is not repeated in the page.
    """
    name = who.name if who is not None else responder_id
    body = (
        f"<p>{escape(name)}，请确认您已收到以下事件通知。</p>{_summary(incident)}"
        '<form method="post"><button type="submit">确认收到 / I have it</button></form>'
        "<p>点击按钮即确认收到（叫应），系统将停止继续通知。</p>"
        '<p class="en">Tapping the button acknowledges the incident; the hub stops paging.</p>'
    )
    return _page("请确认收到", "ask", "请确认收到", "Please confirm you have this alert.", body)


def acknowledged(incident: Incident, responder_id: str, who: ResponderInfo | None) -> str:
    """The answer to a link that acknowledged (or found the incident acknowledged already)."""
    name = who.name if who is not None else responder_id
    if incident.acknowledged_by not in (None, responder_id):
        note = f"{incident.acknowledged_by} 已先行确认；请按分工继续处置。"
    elif incident.state is IncidentState.RESOLVED:
        note = "该事件已解除，无需到场。"
    else:
        note = "请尽快到场处置，到场后在值班 App 中上报现场情况。"
    body = f"<p>{escape(name)}，{escape(note)}</p>{_summary(incident)}"
    return _page("已确认收到", "ok", "已确认收到", "Acknowledged. Thank you.", body)


def outdated(
    incident: Incident, sent_at: Level, responder_id: str, who: ResponderInfo | None
) -> str:
    """The answer to a link sent at ``sent_at`` for an incident now at a higher level: nothing
    is acknowledged; the person is told the new level and to use the newer message's link."""
    name = who.name if who is not None else responder_id
    now = incident.level
    heading = f"情况已升级为{now.zh}"
    english = (
        f"The situation has become a {now.en} (this link was sent for a {sent_at.en}). "
        "It was NOT acknowledged. A new message with a new link has been sent: "
        "acknowledge with that one."
    )
    body = (
        f"<p>{escape(name)}，您打开的链接来自{escape(sent_at.zh)}的通知，"
        f"事件现已升级为{escape(now.zh)}，本次未确认收到。"
        "已向您发送新的通知和确认链接，请阅读最新通知后用新链接确认。</p>"
        f"{_summary(incident)}"
        "<p>如未收到新通知，请在值班 App 中确认，或回复通知、致电值班室。</p>"
        "<p class='en'>If no new message reaches you, acknowledge in the duty app, reply to "
        "the notification or call the duty office.</p>"
    )
    return _page(heading, "no", heading, english, body)


def refused(reason: RefusalReason) -> str:
    zh, en = _REFUSED[reason]
    body = f"<p>{escape(_FALLBACK[0])}</p><p class='en'>{escape(_FALLBACK[1])}</p>"
    return _page(zh, "no", zh, en, body)


def unknown() -> str:
    body = f"<p>{escape(_FALLBACK[0])}</p><p class='en'>{escape(_FALLBACK[1])}</p>"
    return _page("找不到该事件", "no", "找不到该事件", "No such incident.", body)


def closed() -> str:
    english = "This incident is closed; there is nothing to acknowledge."
    return _page("事件已关闭", "no", "事件已关闭，无需确认", english)
