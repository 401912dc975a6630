"""Physical models behind the simulated sensors: small deterministic state machines on explicit
time. ``model.step(dt_s)`` advances the physics, ``model.read(rng)`` returns a noisy reading in
the kind's canonical metrics and units (``streetwatch.kinds``), clamped to its physical range.
Drivers (rain, a fire's phase, a leak, a burst) are plain attributes a scenario sets over time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from simulators.physics._base import PhysicalModel, Reading
from simulators.physics.gas import GasLeak, Space
from simulators.physics.hydrant import Hydrant, Main
from simulators.physics.smoke import SmokeRoom, SmokeSource
from simulators.physics.street import MainsPower, ManholeCover
from simulators.physics.water import Waterlogging
from streetwatch.kinds import KindName

__all__ = [
    "MODELS",
    "GasLeak",
    "Hydrant",
    "Main",
    "MainsPower",
    "ManholeCover",
    "PhysicalModel",
    "Reading",
    "SmokeRoom",
    "SmokeSource",
    "Space",
    "Waterlogging",
    "model_for",
]

MODELS: Mapping[KindName, Callable[[], PhysicalModel]] = MappingProxyType(
    {
        KindName.WATER_LEVEL: Waterlogging,
        KindName.SMOKE: SmokeRoom,
        KindName.GAS: GasLeak,
        KindName.HYDRANT: Hydrant,  # on a main of its own; share a Main to put several on a street
        KindName.MANHOLE_COVER: ManholeCover,
        KindName.POWER: MainsPower,
    }
)
"""A model with default parameters, by sensor kind."""


def model_for(kind: str) -> PhysicalModel:
    """A fresh model for ``kind``, or a ``KeyError`` that lists the kinds with a model."""
    try:
        return MODELS[KindName(kind)]()
    except (ValueError, KeyError):
        known = ", ".join(MODELS)
        raise KeyError(
            f"no physical model for sensor kind {kind!r}; models exist for: {known}"
        ) from None
