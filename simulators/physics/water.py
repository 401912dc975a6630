"""Waterlogging at a low point (an underpass, a sunken road): depth from rain against drainage.

The low point collects the runoff of a catchment ``catchment`` times its own ponding area. While
the rain is within what the drains carry, the road stays dry. Beyond it the excess pours in and
the depth rises by ``catchment × (rain − drainage)``: with the defaults, 30 mm/h over capacity
gives 3 cm/min, the "several cm per minute" of DOMAIN.md. Once the rain eases, the water leaves
only at a fraction (``recession``) of the spare capacity, because the downstream network stays
surcharged after a storm: the road dries far slower than it flooded.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import ClassVar

from simulators.physics._base import Reading, check_dt, measure, require_positive
from streetwatch.kinds import KINDS, KindName

DRAINAGE_MM_H = 30.0
"""Rain the local drains carry. Plausible assumption: about the 1 h rain of the 2–5 year design
storms of GB 50014 in a large Chinese city; not from DOMAIN.md. Set it per low point."""

CATCHMENT = 60.0
"""Catchment area over ponding area. Plausible assumption, chosen so 30 mm/h of excess rain
raises the water 3 cm/min (DOMAIN.md: several cm/min once drains are overwhelmed)."""

RECESSION = 0.2
"""Fraction of the spare drain capacity that empties the pond. Plausible assumption: 50 cm
takes about an hour to drain after the rain stops, against minutes to flood."""

NOISE_CM = 0.3
"""Depth sensor noise (1 σ). Plausible assumption for ultrasonic or pressure level sensors."""

_MAX_CM = KINDS[KindName.WATER_LEVEL].metric("depth").high


@dataclass(slots=True)
class Waterlogging:
    """Depth of standing water (cm) at one low point; ``rain_mm_h`` is the driver."""

    kind: ClassVar[KindName] = KindName.WATER_LEVEL

    drainage_mm_h: float = DRAINAGE_MM_H
    catchment: float = CATCHMENT
    recession: float = RECESSION
    rain_mm_h: float = 0.0
    """Driver: rain intensity now (mm/h)."""
    depth_cm: float = field(default=0.0, init=False)
    """State: true depth above the dry road (cm)."""

    def __post_init__(self) -> None:
        require_positive(
            "Waterlogging",
            drainage_mm_h=self.drainage_mm_h,
            catchment=self.catchment,
            recession=self.recession,
        )

    @property
    def rate_cm_per_min(self) -> float:
        """How fast the depth changes (cm/min); zero while the road is dry and drains keep up."""
        excess_mm_h = max(0.0, self.rain_mm_h) - self.drainage_mm_h
        if excess_mm_h <= 0:
            if self.depth_cm <= 0:
                return 0.0
            excess_mm_h *= self.recession
        return self.catchment * excess_mm_h / 10.0 / 60.0  # mm/h → cm/min

    def step(self, dt_s: float) -> None:
        check_dt(dt_s)
        depth = self.depth_cm + self.rate_cm_per_min * dt_s / 60.0
        self.depth_cm = min(_MAX_CM, max(0.0, depth))

    def read(self, rng: random.Random) -> Reading:
        wet = self.depth_cm > 0
        # A dry road reads exactly zero: the sensor is zeroed on it, noise is on the water surface.
        depth = measure(self.kind, "depth", self.depth_cm, rng, NOISE_CM) if wet else 0.0
        return {"depth": depth, "water_leak": wet}
