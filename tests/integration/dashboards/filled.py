"""What the module fixture ``filled`` gives a test: a database the hub filled, and its range."""

from __future__ import annotations

from dataclasses import dataclass

from support.services import InfluxDBService

from simulators.run.runner import PlayStats
from simulators.tape.compile import Tape


@dataclass(frozen=True, slots=True)
class FilledDatabase:
    influxdb: InfluxDBService
    database: str
    from_ms: int  # the run's time range, as a dashboard would show it
    to_ms: int
    stats: PlayStats
    tape: Tape  # the scenario as played, with its ground truth (what happened where)

    def query(self, influxql: str) -> list[dict[str, object]]:
        return self.influxdb.query(self.database, influxql)
