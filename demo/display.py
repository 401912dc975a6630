"""The demo in the terminal: a live layout on a terminal, plain lines anywhere else.

``LiveView`` (a ``rich`` ``Live``): the scenario and its progress on top, each street and its
level and the open incidents on the left, the scrolling event log on the right. ``PlainView``
prints one line per event instead (tests, CI logs, ``| tee``), each starting with the simulated
time and a fixed word (``OPENED``, ``PAGE``, ``ESCALATED``, ``ACK``...), so it can be grepped.
Both are given a ``Snapshot`` and the new events at every refresh.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from types import TracebackType
from typing import Protocol, Self

from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.layout import Layout
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from demo.feed import Event, Kind
from hub.incidents.model import Incident
from streetwatch.levels import Level

LEVEL_STYLES = {
    Level.NONE: "green",
    Level.BLUE: "bold blue",
    Level.YELLOW: "bold yellow",
    Level.ORANGE: "bold dark_orange",
    Level.RED: "bold red",
}
KIND_STYLES = {
    Kind.STEP: "cyan",
    Kind.STREET: "dim",
    Kind.PAGE: "magenta",
    Kind.FAILED: "red",
    Kind.ESCALATED: "bold red",
    Kind.ACK: "bold green",
    Kind.RESOLVED: "green",
}
LOG_LINES = 500  # kept for the live view's event log
PLAIN_PROGRESS_STEP = 0.1  # a plain PROGRESS line every 10 %


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the city looks like now."""

    now_ms: int  # simulated
    progress: float  # 0..1 of the scenario
    step: str | None  # what the scenario is doing now
    streets: Sequence[tuple[str, Level]]  # (name, level) in the city's order
    incidents: Sequence[tuple[Incident, str]]  # the active ones, with their place's name


class View(Protocol):
    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def show(self, snapshot: Snapshot, events: Sequence[Event]) -> None: ...


def clock(t_ms: int, zone: tzinfo) -> str:
    return datetime.fromtimestamp(t_ms / 1000, zone).strftime("%H:%M:%S")


def event_line(event: Event, zone: tzinfo) -> str:
    """``17:05:12  PAGE       orange  天湖街道值班员 (street-tianhu) via webhook: ...``."""
    level = event.level.value if event.level is not Level.NONE else ""
    incident = f"  [{event.incident}]" if event.incident else ""
    return f"{clock(event.t_ms, zone)}  {event.kind.value:<9}  {level:<6}  {event.text}{incident}"


def event_text(event: Event, zone: tzinfo) -> Text:
    """The same line, coloured: the word by its kind, the level by its colour."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(clock(event.t_ms, zone) + "  ", style="dim")
    text.append(f"{event.kind.value:<9}  ", style=KIND_STYLES.get(event.kind, "bold"))
    if event.level is not Level.NONE:
        text.append(f"{event.level.value:<6}  ", style=LEVEL_STYLES[event.level])
    text.append(event.text)
    return text


def streets_table(streets: Sequence[tuple[str, Level]]) -> Table:
    table = Table("street 街道", "level", expand=True, box=None)
    for name, level in streets:
        table.add_row(
            name, Text(level.value if level is not Level.NONE else "ok", LEVEL_STYLES[level])
        )
    return table


def incidents_table(incidents: Sequence[tuple[Incident, str]]) -> Table:
    table = Table("incident", "what", "level", "state", expand=True, box=None)
    for incident, place in incidents:
        what = f"{incident.hazard.zh} {place}"
        level = Text(incident.level.value, LEVEL_STYLES[incident.level])
        table.add_row(incident.id, what, level, incident.state.value)
    return table


class _Tail:
    """The last lines of the log that fit the height it is given."""

    def __init__(self, lines: deque[Text]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        height = options.height or len(self.lines)
        yield from list(self.lines)[-height:]


class LiveView:
    """The live layout; ``show`` updates it (``rich`` redraws it four times a second)."""

    def __init__(self, console: Console, title: str, zone: tzinfo) -> None:
        self.console, self.title, self.zone = console, title, zone
        self.log: deque[Text] = deque(maxlen=LOG_LINES)
        self.layout = Layout()
        self.layout.split_column(Layout(name="top", size=4), Layout(name="body"))
        self.layout["body"].split_row(Layout(name="city", ratio=2), Layout(name="log", ratio=3))
        self.layout["log"].update(Panel(_Tail(self.log), title="events (simulated time)"))
        self.live = Live(self.layout, console=console, refresh_per_second=4, screen=False)

    def __enter__(self) -> Self:
        self.live.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.live.stop()

    def show(self, snapshot: Snapshot, events: Sequence[Event]) -> None:
        self.log.extend(event_text(e, self.zone) for e in events if e.kind is not Kind.STREET)
        bar = ProgressBar(total=1.0, completed=snapshot.progress, width=30)
        status = Text(f"{clock(snapshot.now_ms, self.zone)}  ")
        status.append(f"{snapshot.progress:4.0%}  now: {snapshot.step or '—'}")
        top: RenderableType = Group(bar, status)
        self.layout["top"].update(Panel(top, title=f"StreetWatch demo · {self.title}"))
        city = Group(streets_table(snapshot.streets), Text(), incidents_table(snapshot.incidents))
        self.layout["city"].update(Panel(city, title="streets and open incidents"))


class PlainView:
    """One line per event, and a PROGRESS line every tenth of the scenario."""

    def __init__(self, console: Console, title: str, zone: tzinfo) -> None:
        self.console, self.title, self.zone = console, title, zone
        self._next_progress = 0.0

    def __enter__(self) -> Self:
        self.console.print(f"StreetWatch demo: {self.title}", markup=False, highlight=False)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pass

    def show(self, snapshot: Snapshot, events: Sequence[Event]) -> None:
        for event in events:
            self._print(event_line(event, self.zone))
        if snapshot.progress >= self._next_progress:
            now = clock(snapshot.now_ms, self.zone)
            self._print(f"{now}  PROGRESS   {snapshot.progress:4.0%}  now: {snapshot.step or '—'}")
            self._next_progress = (
                snapshot.progress // PLAIN_PROGRESS_STEP + 1
            ) * PLAIN_PROGRESS_STEP

    def _print(self, line: str) -> None:
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)
