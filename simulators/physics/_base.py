"""What every physical model shares: the protocol, noisy clamped readings, exact relaxation."""

from __future__ import annotations

import math
import random
from typing import Protocol

from streetwatch.kinds import KINDS, KindName

Reading = dict[str, float | bool]
"""One reading: metric name (as in ``streetwatch.kinds``) to value in the canonical unit."""


class PhysicalModel(Protocol):
    """A deterministic state machine on explicit time; drivers are plain attributes."""

    @property
    def kind(self) -> KindName: ...

    def step(self, dt_s: float) -> None:
        """Advance the physics by ``dt_s`` seconds (no clock, no sleeping)."""

    def read(self, rng: random.Random) -> Reading:
        """A noisy reading, clamped to each metric's physical range; ``rng`` is the only noise."""


def check_dt(dt_s: float) -> None:
    if not (dt_s >= 0 and math.isfinite(dt_s)):
        raise ValueError(f"dt_s must be a finite number of seconds >= 0, got {dt_s!r}")


def measure(kind: KindName, metric: str, value: float, rng: random.Random, sigma: float) -> float:
    """``value`` plus Gaussian noise of ``sigma``, clamped to the metric's physical range."""
    m = KINDS[kind].metric(metric)
    noisy = value + rng.gauss(0.0, sigma) if sigma > 0 else value
    return float(min(m.high, max(m.low, noisy)))


def relax(value: float, target: float, dt_s: float, tau_s: float) -> float:
    """Exact solution of dx/dt = (target − x)/τ after ``dt_s``: one 60 s step = sixty 1 s steps."""
    return target + (value - target) * math.exp(-dt_s / tau_s)


def require_positive(owner: str, **values: float) -> None:
    """Refuse a non-positive parameter with a message that names it."""
    for name, value in values.items():
        if not value > 0:
            raise ValueError(f"{owner}: {name} must be > 0, got {value!r}")
