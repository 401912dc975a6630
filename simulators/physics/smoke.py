"""Smoke obscuration (dB/m) at a point detector: smouldering and flaming fires, cooking.

A fire's smoke at the detector grows as a t-squared curve from the moment it enters its phase,
``untenable × (t / time_to_untenable)²``, the empirical shape of growing fires; the curve already
includes what the room vents while the fire burns. Once the fire is out the smoke clears
exponentially. Cooking is a separate, local plume that builds toward a modest level while the pan
smokes and disperses within a minute or two afterwards, so it trips a sensitive alarm briefly at
most. The device sets its ``smoke`` flag itself at the trip level, on the smoke in its chamber.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

from simulators.physics._base import Reading, check_dt, measure, relax, require_positive
from streetwatch.kinds import KINDS, KindName


class SmokeSource(StrEnum):
    """What is producing smoke now (the driver)."""

    NONE = "none"
    COOKING = "cooking"
    SMOULDERING = "smouldering"
    FLAMING = "flaming"


TRIP_DB_M = 0.23
"""Home alarms trip near 5 %/m ≈ 0.23 dB/m (NIST TN 1455-1 via DOMAIN.md; kinds.SMOKE orange)."""

UNTENABLE_DB_M = 2.5
"""Optical density 0.25 /m = 2.5 dB/m: the smoke tenability criterion of NIST TN 1455-1."""

FLAMING_UNTENABLE_S = 180.0
"""DOMAIN.md: flaming fires reach untenable conditions in about 3 minutes."""

SMOULDERING_UNTENABLE_S = 3600.0
"""DOMAIN.md: smouldering fires rise slowly over tens of minutes. Assumption: untenable after an
hour, so the alarm trips after about 18 minutes."""

COOKING_PLATEAU_DB_M = 0.35
"""Where a smoking pan's plume settles at the detector. Plausible assumption (cooking is the main
nuisance alarm, DOMAIN.md): two minutes of smoking trips the alarm for about a minute."""

COOKING_TAU_S = 60.0
"""Time constant of the cooking plume, building and dispersing. Plausible assumption."""

CLEARANCE_TAU_S = 600.0
"""Time constant of fire smoke clearing once the fire is out. Plausible assumption."""

NOISE_DB_M = 0.005
"""Density noise (1 σ), a tenth of GB 4715's 0.05 dB/m sensitivity. Plausible assumption."""

_MAX_DB_M = KINDS[KindName.SMOKE].metric("smoke_density").high


def _untenable_s(source: SmokeSource) -> float | None:
    if source is SmokeSource.FLAMING:
        return FLAMING_UNTENABLE_S
    if source is SmokeSource.SMOULDERING:
        return SMOULDERING_UNTENABLE_S
    return None


@dataclass(slots=True)
class SmokeRoom:
    """Smoke at one detector in one room; ``source`` is the driver."""

    kind: ClassVar[KindName] = KindName.SMOKE

    trip_db_m: float = TRIP_DB_M
    source: SmokeSource = SmokeSource.NONE
    """Driver: what burns or smokes now."""
    fire_db_m: float = field(default=0.0, init=False)
    """State: smoke from a fire (dB/m)."""
    cooking_db_m: float = field(default=0.0, init=False)
    """State: smoke from cooking (dB/m)."""
    _phase: SmokeSource = field(default=SmokeSource.NONE, init=False, repr=False)
    _phase_s: float = field(default=0.0, init=False, repr=False)

    def __post_init__(self) -> None:
        require_positive("SmokeRoom", trip_db_m=self.trip_db_m)

    @property
    def density_db_m(self) -> float:
        return min(_MAX_DB_M, self.fire_db_m + self.cooking_db_m)

    @property
    def alarm(self) -> bool:
        return self.density_db_m >= self.trip_db_m

    def step(self, dt_s: float) -> None:
        check_dt(dt_s)
        if self.source is not self._phase:
            self._phase, self._phase_s = self.source, 0.0
        t0, t1 = self._phase_s, self._phase_s + dt_s
        self._phase_s = t1
        untenable_s = _untenable_s(self.source)
        if untenable_s is None:
            self.fire_db_m = relax(self.fire_db_m, 0.0, dt_s, CLEARANCE_TAU_S)
        else:
            # Add the t² curve's increase over the step, so smouldering → flaming continues.
            grown = UNTENABLE_DB_M * (t1 * t1 - t0 * t0) / (untenable_s * untenable_s)
            self.fire_db_m = min(_MAX_DB_M, self.fire_db_m + grown)
        plume = COOKING_PLATEAU_DB_M if self.source is SmokeSource.COOKING else 0.0
        self.cooking_db_m = relax(self.cooking_db_m, plume, dt_s, COOKING_TAU_S)

    def read(self, rng: random.Random) -> Reading:
        density = measure(self.kind, "smoke_density", self.density_db_m, rng, NOISE_DB_M)
        return {"smoke_density": density, "smoke": self.alarm}
