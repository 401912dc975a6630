"""The demo's views: plain lines for logs and pipes, the live layout for a terminal."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone

from rich.console import Console

from demo.display import LiveView, PlainView, Snapshot, event_line
from demo.feed import Event, Kind
from hub.incidents.model import Incident
from streetwatch.anomalies import Hazard
from streetwatch.levels import Level

SHANGHAI = timezone(timedelta(hours=8))
T0 = int(datetime(2026, 7, 15, 9, 5, 12, tzinfo=UTC).timestamp() * 1000)  # 17:05:12 in Shanghai
FLOOD = Incident(
    id="I-20260715-0001", key="k", hazard=Hazard.FLOOD, district="pd", street="huamu",
    level=Level.ORANGE, opened_at=T0, updated_at=T0,
)  # fmt: skip
PAGE = Event(T0, Kind.PAGE, "花木街道值班员 (street-huamu) via webhook: 内涝 flood", Level.ORANGE,
             "I-20260715-0001")  # fmt: skip
SNAPSHOT = Snapshot(
    now_ms=T0, progress=0.25, step="降雨 rain 80 mm/h over 花木街道 Huamu",
    streets=[("花木街道 Huamu", Level.ORANGE), ("洋泾街道 Yangjing", Level.NONE)],
    incidents=[(FLOOD, "花木街道 Huamu")],
)  # fmt: skip


def test_an_event_line_starts_with_the_simulated_time_and_a_fixed_word() -> None:
    line = event_line(PAGE, SHANGHAI)
    assert line == (
        "17:05:12  PAGE       orange  花木街道值班员 (street-huamu) via webhook: 内涝 flood"
        "  [I-20260715-0001]"
    )
    step = event_line(Event(T0, Kind.STEP, "雨停 the rain stops"), SHANGHAI)
    assert step == "17:05:12  STEP               雨停 the rain stops"


def test_the_plain_view_prints_each_event_and_a_progress_line_every_tenth() -> None:
    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=False)
    with PlainView(console, "a demo", SHANGHAI) as view:
        view.show(SNAPSHOT, [PAGE])
        view.show(SNAPSHOT, [])  # the same progress: no second line
    lines = out.getvalue().splitlines()
    assert lines == [
        "StreetWatch demo: a demo",
        event_line(PAGE, SHANGHAI),
        "17:05:12  PROGRESS    25%  now: 降雨 rain 80 mm/h over 花木街道 Huamu",
    ]
    assert "\x1b[" not in out.getvalue()  # no colour codes in a log


def test_the_live_view_shows_streets_incidents_progress_and_the_log() -> None:
    out = io.StringIO()
    console = Console(file=out, width=140, height=24, force_terminal=True, color_system=None)
    view = LiveView(console, "a demo", SHANGHAI)
    view.show(SNAPSHOT, [PAGE, Event(T0, Kind.STREET, "not in the log")])
    console.print(view.layout)
    screen = out.getvalue()
    for seen in ("StreetWatch demo · a demo", "17:05:12", "25%", "降雨 rain 80 mm/h",
                 "花木街道 Huamu", "洋泾街道 Yangjing", "I-20260715-0001", "orange",
                 "PAGE", "street-huamu"):  # fmt: skip
        assert seen in screen, seen
    assert "not in the log" not in screen


def test_the_live_view_log_keeps_the_latest_lines_that_fit() -> None:
    out = io.StringIO()
    console = Console(file=out, width=140, height=16, force_terminal=True, color_system=None)
    view = LiveView(console, "a demo", SHANGHAI)
    view.show(SNAPSHOT, [Event(T0 + i * 1000, Kind.STEP, f"step number {i}") for i in range(40)])
    console.print(view.layout)
    screen = out.getvalue()
    assert "step number 39" in screen
    assert "step number 0 " not in screen
    assert "step number 1 " not in screen
