"""One demo: a scenario played against a real StreetWatch, watched live, then scored.

The run is the simulators' (``ScenarioRun``: brokers, the hub, an edge agent per gateway,
simulated responders, one scaled clock); the demo adds ``LiveFeed``, which reads the hub as it
goes (its incident changes and its audit trail) into the view a few times a second. The output
directory is the one ``streetwatch sim run`` writes (``simulators.run.session``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any

from demo.display import Snapshot, View
from demo.feed import Feed
from demo.steps import timeline
from demo.words import Names, place_names
from simulators.run.embedded_broker import BrokerKind
from simulators.run.runner import ScenarioRun
from simulators.run.session import RunResult, begin, finish
from simulators.run.stack import Watcher
from simulators.scenarios import Scenario
from simulators.tape.compile import compile_tape
from streetwatch.clock import now_ms
from streetwatch.component import Component

REFRESH_S = 0.25  # real seconds between two looks at the hub


@dataclass(frozen=True, slots=True)
class DemoOptions:
    scenario: Scenario
    seed: int
    speed: float
    out: Path
    brokers: BrokerKind
    storage: dict[str, Any] | None = None  # the hub's storage section; None: SQLite
    watcher: Watcher | None = None

    @property
    def zone(self) -> tzinfo:
        """The scenario's time zone, for the clock shown."""
        zone = self.scenario.start.tzinfo
        assert zone is not None  # an AwareDatetime
        return zone


class LiveFeed(Component):
    """Shows ``run`` in ``view`` every ``REFRESH_S`` until it stops, then once more."""

    def __init__(self, run: ScenarioRun, view: View) -> None:
        self.run, self.view = run, view
        tape = run.tape
        self.start_ms, self.end_ms = tape.start_ms, tape.end_ms
        names = Names(
            places=place_names(tape.city),
            people={p.id: p.name for p in run.hub.config.notify.responders},
            streets=[(d.id, s.id) for d in tape.city.districts for s in d.streets],
        )
        self.feed = Feed(names, timeline(tape.scenario, tape.city, tape.start_ms))

    async def start(self) -> None:
        self.run.hub.responding.changes.append(self.feed.incident_changed)
        self.spawn(self._loop(), "refresh")

    async def stop(self) -> None:
        await self.refresh()

    async def refresh(self) -> None:
        now = min(now_ms(self.run.clock), self.end_ms)
        self.feed.tick(now)
        await self.feed.poll(self.run.hub.responding.store)
        self.view.show(self.snapshot(now), self.feed.take())

    def snapshot(self, now: int) -> Snapshot:
        feed, names = self.feed, self.feed.names
        progress = max(0.0, min(1.0, (now - self.start_ms) / (self.end_ms - self.start_ms)))
        step = feed.current_step(now)
        streets = [(names.places[s], feed.street_levels[s]) for _, s in names.streets]
        active = [(i, names.place(i)) for i in feed.incidents.values() if i.active]
        return Snapshot(now, progress, step.text if step else None, streets, active)

    async def _loop(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(REFRESH_S)  # real time: how often a person wants to look


async def run_demo(options: DemoOptions, view: View) -> RunResult:
    """Play the scenario, showing it in ``view``; score it and write ``options.out``."""
    tape = compile_tape(options.scenario, options.seed)
    begin(options.out, tape)
    run = ScenarioRun(tape, options.out / "work", speed=options.speed, storage=options.storage,
                      brokers=options.brokers, watcher=options.watcher)  # fmt: skip
    async with run:
        with view:
            async with LiveFeed(run, view):
                stats = await run.play()
        observed = await run.observed()
    return finish(options.out, tape, options.speed, stats, observed)
