"""What a paged person reads: level, hazard, place, the reading, since when, and the links.

Chinese by default, English for those who asked for it. Every version ends with the one-tap
acknowledgement link (叫应). Four forms of one text:

* ``title``: one line (e-mail subject, DingTalk title, card header);
* ``text``: plain text, one fact a line;
* ``markdown``: the same for WeCom, DingTalk and Feishu;
* ``sms``: at most ``SMS_BUDGET`` characters (70 in Chinese: one SMS segment), then the link;
  the reading is dropped first when it does not fit, then the place is shortened.

Times are local (Asia/Shanghai). Place ids are shown by name when ``names`` knows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from hub.city import CityConfig
from hub.incidents.model import Incident, Signal
from hub.notify.base import Language, Message
from streetwatch.kinds import KINDS
from streetwatch.levels import Level
from streetwatch.units import Unit

__all__ = ["SMS_BUDGET", "TZ", "PlaceNames", "place_names", "render", "strongest_signal"]

TZ = ZoneInfo("Asia/Shanghai")
SMS_BUDGET: dict[Language, int] = {"zh": 70, "en": 120}
"""Characters before the link: one Chinese SMS segment; in English, room for the link in 160."""

DETAIL_CHARS = 80  # a signal's free-text detail, when it has no reading, is clipped to this

PlaceNames = Mapping[str, str]
"""Place id (district, street, community, building) → its name in the reader's language."""

_UNIT_SHOWN = {Unit.DEGREE: "°", Unit.CELSIUS: "°C", Unit.PERCENT: "%", Unit.FLAG: ""}


@dataclass(frozen=True, slots=True)
class _Words:
    level: str
    place: str
    reading: str
    since: str
    map: str
    ack: str
    colon: str
    comma: str
    above: str
    at: str
    below: str
    alarm: str
    zone: str


# fmt: off
_WORDS: dict[Language, _Words] = {
    "zh": _Words(
        "等级", "地点", "监测", "开始", "地图", "点击确认收到", "：", "，",
        "超过阈值", "达到阈值", "低于阈值", "设备报警", "（北京时间）",
    ),
    "en": _Words(
        "Level", "Place", "Reading", "Since", "Map", "Tap to acknowledge", ": ", ", ",
        "above the threshold", "at the threshold", "below the threshold", "device alarm",
        " (UTC+8)",
    ),
}
# fmt: on


def strongest_signal(incident: Incident) -> Signal | None:
    """The most severe active signal (the latest among equals); any signal if none is active."""
    pool = [s for s in incident.signals if s.active] or list(incident.signals)
    return max(pool, key=lambda s: (s.level.rank, s.t), default=None)


def place_names(city: CityConfig, language: Language = "zh") -> dict[str, str]:
    """Names of the city's districts, streets and communities (the first of a repeated id)."""
    names: dict[str, str] = {}
    for district in city.districts:
        names.setdefault(district.id, getattr(district, language))
        for street in district.streets:
            names.setdefault(street.id, getattr(street, language))
            for community in street.communities:
                names.setdefault(community.id, getattr(community, language))
    return names


def _head(level: Level, language: Language) -> str:
    if language == "zh":
        return "【提示】" if level is Level.NONE else f"【{level.info.zh}预警】"
    return "[NOTICE] " if level is Level.NONE else f"[{level.info.en.upper()} WARNING] "


def _hazard(incident: Incident, language: Language) -> str:
    return (
        incident.hazard.zh
        if language == "zh"
        else incident.hazard.value.replace("_", " ").capitalize()
    )


def _floor(floor: int, language: Language) -> str:
    if language == "zh":
        return f"{floor}层" if floor >= 0 else f"地下{-floor}层"
    return f"floor {floor}" if floor >= 0 else f"basement {-floor}"


def _places(
    incident: Incident, signal: Signal | None, names: PlaceNames, lang: Language
) -> list[str]:
    """Street (or district and its streets), community, building, floor: the named parts."""
    if incident.street is not None:
        parts = [names.get(incident.street, incident.street)]
    else:
        spanned = "、".join(names.get(s, s) for s in incident.streets)
        parts = [names.get(incident.district, incident.district), *([spanned] if spanned else [])]
    community = incident.community or (signal.community if signal else None)
    building = incident.building or (signal.building if signal else None)
    parts += [names.get(p, p) for p in (community, building) if p]
    if signal is not None and signal.floor is not None:
        parts.append(_floor(signal.floor, lang))
    return parts


def _number(value: float) -> str:
    return f"{value:.6g}"


def _reading(signal: Signal | None, words: _Words, language: Language) -> str | None:
    """``烟雾浓度 0.35 dB/m，超过阈值 0.2 dB/m``: what was measured, against which threshold."""
    if signal is None or signal.metric is None:
        detail = signal.detail if signal is not None else ""
        return detail[:DETAIL_CHARS] + ("…" if len(detail) > DETAIL_CHARS else "") or None
    label, unit, flag = signal.metric.replace("_", " "), "", isinstance(signal.value, bool)
    kind = KINDS.get(signal.kind) if signal.kind is not None else None
    if kind is not None and kind.has_metric(signal.metric):
        metric = kind.metric(signal.metric)
        label = metric.zh if language == "zh" else label
        shown = _UNIT_SHOWN.get(metric.unit, f" {metric.unit.value}")
        unit, flag = shown, flag or metric.is_flag
    if flag or signal.value is None:
        return f"{label}{words.colon}{words.alarm}"
    value = float(signal.value)
    text = f"{label} {_number(value)}{unit}"
    if signal.threshold is None:
        return text
    side = words.above if value > signal.threshold else words.below
    side = words.at if value == signal.threshold else side
    return f"{text}{words.comma}{side} {_number(signal.threshold)}{unit}"


def _join_zh(parts: list[str]) -> str:
    """Chinese parts run together, but two ASCII ids never do: 联洋社区b3 2层, not b32层."""
    out = ""
    for part in parts:
        if out and out[-1].isascii() and out[-1].isalnum() and part[:1].isascii():
            out += " "
        out += part
    return out


def _sms(head: str, hazard: str, places: list[str], reading: str | None, lang: Language) -> str:
    """The short form: head, hazard, the most specific places, the reading if it fits."""
    budget, tail = SMS_BUDGET[lang], ("，点击确认收到:" if lang == "zh" else ", acknowledge:")

    def line(place: str, reading: str | None) -> str:
        return " ".join(p for p in (f"{head}{hazard}", place, reading) if p) + tail

    place = _join_zh(places[1:] or places) if lang == "zh" else " ".join(places[1:] or places)
    for text in (line(place, reading), line(place, None)):
        if len(text) <= budget:
            return text
    keep = max(len(place) - (len(line(place, None)) - budget) - 1, 0)
    return line(place[:keep] + "…", None)


def render(
    incident: Incident,
    *,
    language: Language = "zh",
    ack_url: str,
    map_url: str | None = None,
    names: PlaceNames | None = None,
) -> Message:
    """The message for one incident in one language; ``names`` maps place ids to names."""
    words = _WORDS[language]
    signal = strongest_signal(incident)
    head, hazard = _head(incident.level, language), _hazard(incident, language)
    places = _places(incident, signal, names or {}, language)
    reading = _reading(signal, words, language)
    opened = datetime.fromtimestamp(incident.opened_at / 1000, TZ)
    level = incident.level.zh if language == "zh" else incident.level.en
    facts = [
        (words.level, level),
        (words.place, " ".join(places)),
        *([(words.reading, reading)] if reading else []),
        (words.since, f"{opened:%Y-%m-%d %H:%M}{words.zone}"),
    ]
    title = f"{head}{hazard} · {places[-1] if len(places) < 3 else ' '.join(places[1:3])}"
    text_lines = [f"{head}{hazard}", *(f"{k}{words.colon}{v}" for k, v in facts)]
    md_lines = [f"### {head}{hazard}", *(f"**{k}**{words.colon}{v}" for k, v in facts)]
    if map_url:
        text_lines.append(f"{words.map}{words.colon}{map_url}")
        md_lines.append(f"[{words.map}]({map_url})")
    text_lines.append(f"{words.ack}: {ack_url}")
    md_lines.append(f"**[{words.ack}]({ack_url})**")
    return Message(
        title=title,
        text="\n".join(text_lines),
        markdown="\n\n".join(md_lines),
        ack_url=ack_url,
        map_url=map_url,
        sms=f"{_sms(head, hazard, places, reading, language)} {ack_url}",
    )
