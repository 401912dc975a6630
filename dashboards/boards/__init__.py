"""Every StreetWatch dashboard: its uid and the function that builds it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from grafana_foundation_sdk.models.dashboard import Dashboard

from dashboards.boards import device_health, response, risk_map, street_detail

__all__ = ["BOARDS", "Board"]


@dataclass(frozen=True, slots=True)
class Board:
    uid: str
    title: str
    build: Callable[[], Dashboard]


BOARDS: tuple[Board, ...] = tuple(
    Board(m.UID, m.TITLE, m.build) for m in (risk_map, street_detail, device_health, response)
)
"""The dashboards in menu order: city risk map, street detail, device health, response."""
