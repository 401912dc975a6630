"""Resources near an incident: the nearest fire hydrants that have pressure right now.

The hub keeps the latest pressure of every hydrant from the telemetry it stores (window
summaries carry ``last``); coordinates come from each sensor's placement in its gateway's birth.
Distances are great-circle (haversine): five lines, not worth a dependency.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from streetwatch.fast_telemetry import Telemetry
from streetwatch.location import Coordinates, Placement

HYDRANT = "hydrant"
PRESSURE = "pressure"
MIN_PRESSURE_MPA = 0.14  # GB 55036-2022: mains serving hydrants at >= 0.14 MPa in operation
EARTH_RADIUS_M = 6_371_000.0


def distance_m(a: Coordinates, b: Coordinates) -> float:
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


@dataclass(frozen=True, slots=True)
class Hydrant:
    sensor: str
    gateway: str
    coordinates: Coordinates
    pressure_mpa: float
    t: int


@dataclass(frozen=True, slots=True)
class NearbyHydrant:
    hydrant: Hydrant
    distance_m: float
    ok: bool  # pressure at least MIN_PRESSURE_MPA and recent


class HydrantWatch:
    """The latest pressure of every hydrant with known coordinates."""

    def __init__(self) -> None:
        self._latest: dict[str, Hydrant] = {}

    def observe(self, batch: Telemetry, placements: Mapping[str, Placement]) -> None:
        for r in batch.readings:
            if r.kind == HYDRANT and isinstance(r.values.get(PRESSURE), float):
                self._update(batch.gateway, r.sensor, float(r.values[PRESSURE]), r.t, placements)
        for s in batch.summaries:
            if s.kind == HYDRANT and PRESSURE in s.stats:
                self._update(batch.gateway, s.sensor, s.stats[PRESSURE].last, s.end, placements)

    def _update(
        self,
        gateway: str,
        sensor: str,
        pressure: float,
        t: int,
        placements: Mapping[str, Placement],
    ) -> None:
        placement = placements.get(sensor)
        if placement is None or placement.coordinates is None:
            return
        known = self._latest.get(sensor)
        if known is None or t >= known.t:
            self._latest[sensor] = Hydrant(sensor, gateway, placement.coordinates, pressure, t)

    def nearest(
        self, center: Coordinates, now_ms: int, *, limit: int = 5, max_age_s: float = 3600
    ) -> list[NearbyHydrant]:
        """The ``limit`` nearest hydrants, those with pressure first."""
        found = []
        for h in self._latest.values():
            fresh = now_ms - h.t <= max_age_s * 1000
            ok = fresh and h.pressure_mpa >= MIN_PRESSURE_MPA
            found.append(NearbyHydrant(h, distance_m(center, h.coordinates), ok))
        found.sort(key=lambda n: (not n.ok, n.distance_m))
        return found[:limit]
