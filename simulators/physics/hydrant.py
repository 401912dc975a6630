"""Municipal fire hydrants on a shared main: daily pressure cycle, illegal use, collision, burst.

A ``Main`` is the pipe under one street. Its pressure follows the city's demand: highest in the
small hours, lowest at the morning and evening peaks. A burst at ``burst_at_m`` along the main
pulls the pressure down within seconds for every hydrant on it, the nearest the most. Hydrants
share their main: whichever is stepped first advances it, so each instant is computed once.
A hydrant adds its own events: water drawn from it (illegal use), its cover open, a collision.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import ClassVar

from simulators.physics._base import Reading, check_dt, measure, relax, require_positive
from streetwatch.kinds import KindName

NIGHT_MPA = 0.40
DAY_PEAK_MPA = 0.22
"""DOMAIN.md: typical 0.2–0.4 MPa, somewhat higher at night (lowest at peak demand)."""

PEAK_HOURS = (7.5, 19.5)
"""Morning and evening demand peaks (local time). Plausible assumption for Chinese cities."""

BURST_RESIDUAL = 0.15
"""Share of the normal pressure left at the burst itself. Plausible assumption."""

BURST_REACH_M = 2000.0
"""Distance over which the pressure recovers from the burst (1/e). Plausible assumption: every
hydrant within ~500 m (hydrants stand ≤ 120 m apart, GB 50974) drops below 0.14 MPa, which is
how DOMAIN.md says a burst shows: several neighbouring hydrants at once."""

BURST_TAU_S = 15.0
"""How fast the pressure falls once the main bursts (and returns once repaired). Assumption."""

DRAW_DIP_MPA = 0.06
"""Pressure lost at a hydrant while water is drawn from it (~15 L/s, GB 55036). Assumption."""

COLLISION_TILT_DEG = 60.0
"""Tilt of a hydrant knocked over by a vehicle: beyond DOMAIN.md's 30–45° collision band."""

UPRIGHT_TILT_DEG = 1.0
"""Tilt of a standing hydrant (installation tolerance). Plausible assumption."""

NOISE_MPA = 0.003
NOISE_DEG = 0.3
"""Reading noise (1 σ). Plausible assumptions for a 0–1.6 MPa gauge and a MEMS inclinometer."""

DAY_S = 86400.0


def demand(hour: float) -> float:
    """Relative water demand (0 at night .. 1 at the peaks) at a local hour of the day."""
    daytime = (1.0 - math.cos(2 * math.pi * (hour - 3.0) / 24.0)) / 2.0  # 0 at 3:00
    peaks = max(
        math.exp(-(((hour - p + 12.0) % 24.0 - 12.0) ** 2) / (2 * 1.5**2)) for p in PEAK_HOURS
    )
    return 0.5 * daytime + 0.5 * peaks


@dataclass(slots=True)
class Main:
    """The water main under a street; ``burst_at_m`` (None: intact) is the driver."""

    start_hour: float = 0.0
    night_mpa: float = NIGHT_MPA
    day_peak_mpa: float = DAY_PEAK_MPA
    burst_at_m: float | None = None
    """Driver: where along the main it has burst (m), or None."""
    elapsed_s: float = field(default=0.0, init=False)
    burst: float = field(default=0.0, init=False)
    """State: how far the burst has developed, 0 (intact) .. 1 (fully drained)."""
    burst_pos_m: float = field(default=0.0, init=False)
    """State: where the last burst was, kept while a repaired main refills."""

    def __post_init__(self) -> None:
        require_positive("Main", night_mpa=self.night_mpa, day_peak_mpa=self.day_peak_mpa)
        if self.day_peak_mpa > self.night_mpa:
            raise ValueError("Main: day_peak_mpa must not exceed night_mpa (demand lowers it)")

    @property
    def hour(self) -> float:
        return (self.start_hour + self.elapsed_s / 3600.0) % 24.0

    def advance_to(self, elapsed_s: float) -> None:
        """Bring the main to ``elapsed_s``; earlier times (another hydrant's step) do nothing."""
        dt_s = elapsed_s - self.elapsed_s
        if dt_s <= 0:
            return
        self.elapsed_s = elapsed_s
        if self.burst_at_m is not None:
            self.burst_pos_m = self.burst_at_m
        target = 0.0 if self.burst_at_m is None else 1.0
        self.burst = relax(self.burst, target, dt_s, BURST_TAU_S)

    def pressure_at(self, position_m: float) -> float:
        normal = self.night_mpa - (self.night_mpa - self.day_peak_mpa) * demand(self.hour)
        distance = abs(position_m - self.burst_pos_m)
        kept = 1.0 - (1.0 - BURST_RESIDUAL) * math.exp(-distance / BURST_REACH_M)
        return normal * (1.0 - self.burst * (1.0 - kept))


@dataclass(slots=True)
class Hydrant:
    """One hydrant at ``position_m`` along its main; ``flowing``, ``cover_open``, ``collided``
    are the drivers."""

    kind: ClassVar[KindName] = KindName.HYDRANT

    main: Main = field(default_factory=Main)
    position_m: float = 0.0
    flowing: bool = False
    """Driver: water is being drawn (illegal use, theft, firefighting)."""
    cover_open: bool = False
    """Driver: the outlet cover is off."""
    collided: bool = False
    """Driver: a vehicle has knocked the hydrant over."""
    elapsed_s: float = field(default=0.0, init=False)

    @property
    def pressure_mpa(self) -> float:
        dip = DRAW_DIP_MPA if self.flowing else 0.0
        return max(0.0, self.main.pressure_at(self.position_m) - dip)

    @property
    def tilt_deg(self) -> float:
        return COLLISION_TILT_DEG if self.collided else UPRIGHT_TILT_DEG

    def step(self, dt_s: float) -> None:
        check_dt(dt_s)
        self.elapsed_s += dt_s
        self.main.advance_to(self.elapsed_s)

    def read(self, rng: random.Random) -> Reading:
        return {
            "pressure": measure(self.kind, "pressure", self.pressure_mpa, rng, NOISE_MPA),
            "tilt": measure(self.kind, "tilt", self.tilt_deg, rng, NOISE_DEG),
            "flow": self.flowing,
            "cover_open": self.cover_open,
        }
