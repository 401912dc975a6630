"""Combustible gas (%LEL of methane) at a detector: a leak into a space, and nuisance sprays.

The space is one well-mixed box: the leak adds methane, ventilation replaces the air
``air_changes_per_h`` times an hour. The concentration relaxes toward leak / (volume × air
changes) with time constant 1 / air changes: a ventilated kitchen levels off within the hour; a
pipe well, barely ventilated, keeps rising for hours (its equilibrium is far above the LEL). A
spray of alcohol, disinfectant or insecticide near the sensor (DOMAIN.md: the common false
alarms) is a separate cloud that the catalytic sensor reads as gas and that disperses in a minute.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import ClassVar

from simulators.physics._base import Reading, check_dt, measure, relax, require_positive
from streetwatch.kinds import KindName
from streetwatch.units import METHANE_LEL_PERCENT_VOL

HOUSEHOLD_ALARM_LEL = 10.0
"""DOMAIN.md: household detectors commonly alarm at 10–20 %LEL; the sensitive end, which is also
kinds.GAS's yellow threshold."""

UTILITY_ALARM_LEL = 20.0
"""DOMAIN.md: utility tunnels alarm at 20 %LEL (used for pipe wells)."""

SPRAY_PLATEAU_LEL = 80.0
"""What a catalytic sensor reads inside a spray cloud. Plausible assumption: a 5 s spray reads
about 18 %LEL, enough for a household false alarm."""

SPRAY_TAU_S = 20.0
"""Time constant of the spray cloud at the sensor, building and dispersing. Plausible assumption."""

NOISE_LEL = 0.3
"""Reading noise (1 σ). Plausible assumption for catalytic or infrared methane sensors."""

_FULL_LEL = 100.0 / METHANE_LEL_PERCENT_VOL * 100.0  # pure methane, 100 %vol, in %LEL


@dataclass(frozen=True, slots=True)
class Space:
    """The air a detector watches."""

    volume_m3: float
    air_changes_per_h: float

    def __post_init__(self) -> None:
        require_positive(
            "Space", volume_m3=self.volume_m3, air_changes_per_h=self.air_changes_per_h
        )

    @property
    def tau_s(self) -> float:
        return 3600.0 / self.air_changes_per_h

    def equilibrium_lel(self, leak_l_per_min: float) -> float:
        """Where the concentration would settle for a steady leak (%LEL; may be beyond pure
        methane, in a space so tight that the gas stops at 100 %vol long before)."""
        leak_m3_h = max(0.0, leak_l_per_min) * 60.0 / 1000.0
        percent_vol = 100.0 * leak_m3_h / (self.volume_m3 * self.air_changes_per_h)
        return percent_vol / METHANE_LEL_PERCENT_VOL * 100.0


KITCHEN = Space(volume_m3=25.0, air_changes_per_h=3.0)
"""A 10 m² kitchen, window ajar or hood running. Plausible assumption."""

PIPE_WELL = Space(volume_m3=4.0, air_changes_per_h=0.05)
"""A valve or inspection well under a vented cover, air exchanged only through the vent holes.
Plausible assumption."""


@dataclass(slots=True)
class GasLeak:
    """Methane at one detector; ``leak_l_per_min`` and ``spraying`` are the drivers."""

    kind: ClassVar[KindName] = KindName.GAS

    space: Space = KITCHEN
    alarm_lel: float = HOUSEHOLD_ALARM_LEL
    sensitivity: float = 1.0
    """Driver: reading per true %LEL; ageing sensors drift above 1 (DOMAIN.md)."""
    leak_l_per_min: float = 0.0
    """Driver: methane escaping into the space (L/min); 0 is no leak."""
    spraying: bool = False
    """Driver: someone is spraying alcohol, disinfectant or insecticide near the sensor."""
    leak_lel: float = field(default=0.0, init=False)
    """State: methane from the leak in the space (%LEL, may exceed 100)."""
    spray_lel: float = field(default=0.0, init=False)
    """State: apparent %LEL of the spray cloud at the sensor."""

    def __post_init__(self) -> None:
        require_positive("GasLeak", alarm_lel=self.alarm_lel, sensitivity=self.sensitivity)

    @classmethod
    def in_pipe_well(cls) -> GasLeak:
        """A utility detector in a pipe well."""
        return cls(space=PIPE_WELL, alarm_lel=UTILITY_ALARM_LEL)

    @property
    def sensed_lel(self) -> float:
        """What the sensor element sees before reading noise."""
        return self.sensitivity * (self.leak_lel + self.spray_lel)

    @property
    def alarm(self) -> bool:
        return self.sensed_lel >= self.alarm_lel

    def step(self, dt_s: float) -> None:
        check_dt(dt_s)
        target = self.space.equilibrium_lel(self.leak_l_per_min)
        self.leak_lel = min(_FULL_LEL, relax(self.leak_lel, target, dt_s, self.space.tau_s))
        cloud = SPRAY_PLATEAU_LEL if self.spraying else 0.0
        self.spray_lel = relax(self.spray_lel, cloud, dt_s, SPRAY_TAU_S)

    def read(self, rng: random.Random) -> Reading:
        lel = measure(self.kind, "lel", self.sensed_lel, rng, NOISE_LEL)
        return {"lel": lel, "gas": self.alarm}
