"""The example city (the ``city`` section of examples/hub.yaml), as tests use it."""

from __future__ import annotations

from pathlib import Path

import yaml

from hub.city import CityConfig

EXAMPLE_HUB = Path(__file__).resolve().parents[2] / "examples" / "hub.yaml"


def example_city() -> CityConfig:
    return CityConfig.model_validate(yaml.safe_load(EXAMPLE_HUB.read_text())["city"])
