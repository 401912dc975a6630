"""The score for the terminal: a rich table."""

from __future__ import annotations

from rich.table import Table

from simulators.score.result import Score

_CAUSES = {"false": "false incident", "false_alarm": "false alarm", "fault_reported": "fault"}


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} s"


def render_table(result: Score) -> Table:
    """The score for the terminal: one row per hazard, then the incidents matching none."""
    s = result.summary
    caption = (
        f"{s.detected}/{s.hazards} detected, {s.missed} missed, {s.false_incidents} false, "
        f"{s.false_alarms} false alarms (nuisance/fault), {s.faults_reported} faults reported, "
        f"{s.duplicates} duplicates, levels {s.level_exact} exact / {s.level_under} under / "
        f"{s.level_over} over, {s.unanswered} unanswered; median detect {_s(s.detect.median_s)}"
        f", page {_s(s.page.median_s)}, ack {_s(s.ack.median_s)}"
    )
    table = Table(title="StreetWatch run score", caption=caption)
    for name in ("what", "where", "deserved", "reached", "detect", "page", "ack", "incidents"):
        table.add_column(name, justify="right" if name in ("detect", "page", "ack") else "left")
    for o in result.hazards:
        t, missed = o.truth, not o.incidents
        reached = "missed" if missed else o.reached.value
        times = (_s(o.detect_s), _s(o.page_s), _s(o.ack_s))
        row = (t.what, t.place, t.level.value, reached, *times, ", ".join(o.incidents))
        table.add_row(*row, style="red" if missed else ("yellow" if o.duplicates else None))
    if result.unmatched:
        table.add_section()
    for u in result.unmatched:
        why = f": {', '.join(u.explained_by)}" if u.explained_by else ""
        what = _CAUSES[u.cause] + why
        style = "red" if u.cause == "false" else "dim"
        table.add_row(what, u.place, "—", u.level.value, "", "", "", u.incident, style=style)
    return table
