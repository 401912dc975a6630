"""Street furniture without much physics: a manhole cover and the mains power at a gateway.

They exist so that every sensor of a generated city reports something plausible: a cover lies
flat (tilt near 0°) until lifted, and mains voltage sits near 220 V until the power is cut.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import ClassVar

from simulators.physics._base import Reading, check_dt, measure
from streetwatch.kinds import KindName

FLAT_TILT_DEG = 0.5
LIFTED_TILT_DEG = 40.0
NOISE_DEG = 0.2
MAINS_V = 225.0
"""GB/T 12325-2008: 220 V nominal; urban supply usually runs a little above it."""
NOISE_V = 1.5


@dataclass(slots=True)
class ManholeCover:
    """A cover on a well; ``lifted`` is the driver (stolen, displaced by floodwater)."""

    kind: ClassVar[KindName] = KindName.MANHOLE_COVER
    lifted: bool = False

    def step(self, dt_s: float) -> None:
        check_dt(dt_s)

    def read(self, rng: random.Random) -> Reading:
        tilt = LIFTED_TILT_DEG if self.lifted else FLAT_TILT_DEG
        return {"tilt": measure(self.kind, "tilt", tilt, rng, NOISE_DEG), "open": self.lifted}


@dataclass(slots=True)
class MainsPower:
    """Mains at a gateway's cabinet; ``mains_on`` is the driver."""

    kind: ClassVar[KindName] = KindName.POWER
    mains_on: bool = True

    def step(self, dt_s: float) -> None:
        check_dt(dt_s)

    def read(self, rng: random.Random) -> Reading:
        volts = measure(self.kind, "mains_voltage", MAINS_V, rng, NOISE_V) if self.mains_on else 0.0
        return {"mains_voltage": volts, "on_battery": not self.mains_on}
