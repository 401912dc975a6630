"""Ground truth: what really happened in a simulated run, written as JSONL beside it.

A record says what happened and of which ``kind``: a hazard the system must report, a device
fault, or a nuisance that looks like a hazard (cooking smoke, a test button, disinfectant near a
gas detector). It says where (district, street, and community or building when it is that
local), when (``start_ms`` to ``end_ms``, simulated Unix ms), which sensors and gateways it
touched, and, for a hazard, the warning level it deserves. ``simulators.score`` compares the
hub's incidents with these records.

``what`` is a short snake_case name; the usual ones are in ``KNOWN_WHATS`` with their kind, and
a known name with another kind is refused. New names are allowed, so that a scenario can say
what it simulates without editing this table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from streetwatch.anomalies import Hazard
from streetwatch.ids import Slug
from streetwatch.levels import Level
from streetwatch.messages import Millis

__all__ = ["KNOWN_WHATS", "TruthKind", "TruthLog", "TruthLogError", "TruthRecord"]


class TruthKind(StrEnum):
    HAZARD = "hazard"  # a real danger: the system must open an incident and page
    FAULT = "fault"  # the device or network is wrong, not the world
    NUISANCE = "nuisance"  # the world is fine but looks dangerous to a sensor


def _table(kind: TruthKind, names: str) -> dict[str, TruthKind]:
    return dict.fromkeys(names.split(), kind)


KNOWN_WHATS: Mapping[str, TruthKind] = MappingProxyType(
    _table(
        TruthKind.HAZARD,
        "street_flood underpass_flood garage_flood kitchen_fire building_fire smouldering_fire "
        "gas_leak pipe_well_leak main_burst hydrant_theft collision manhole_open",
    )
    | _table(
        TruthKind.FAULT,
        "sensor_stuck sensor_spike sensor_drift sensor_offline battery_low tamper "
        "gateway_offline power_cut uplink_down",
    )
    | _table(TruthKind.NUISANCE, "cooking_smoke steam disinfectant self_test test_alarm")
)
"""The usual ``what`` names and their kind (``collision``: a vehicle knocks over a hydrant)."""

What = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,47}$"),
    Field(description="What happened, snake_case, e.g. 'kitchen_fire' (see KNOWN_WHATS)."),
]


class TruthRecord(BaseModel):
    """One thing that happened in a simulated run."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    kind: TruthKind
    what: What
    hazard: Hazard = Field(
        description="The hazard it is (hazards) or looks like (faults: usually device)."
    )
    district: Slug
    street: Slug
    streets: tuple[Slug, ...] = Field(
        (), description="Further streets of the same district it reaches (a wide flood)."
    )
    community: Slug | None = None
    building: Slug | None = Field(None, description="Within the community; needs community.")
    sensors: tuple[Slug, ...] = Field((), description="Sensors that see it.")
    gateways: tuple[Slug, ...] = Field((), description="Gateways it touches.")
    start_ms: Millis
    end_ms: Millis
    level: Level = Field(Level.NONE, description="The level a hazard deserves; none otherwise.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.end_ms < self.start_ms:
            raise ValueError("end_ms is before start_ms")
        if self.building is not None and self.community is None:
            raise ValueError("a building is named within a community; give the community too")
        known = KNOWN_WHATS.get(self.what)
        if known is not None and known is not self.kind:
            raise ValueError(f"{self.what!r} is a {known}, not a {self.kind}")
        if self.kind is TruthKind.HAZARD and self.level is Level.NONE:
            raise ValueError("a hazard deserves a warning level (blue to red)")
        if self.kind is not TruthKind.HAZARD and self.level is not Level.NONE:
            raise ValueError(f"a {self.kind} deserves no warning; leave level as none")
        return self

    @property
    def all_streets(self) -> tuple[str, ...]:
        return (self.street, *self.streets)

    @property
    def place(self) -> str:
        """``district/street[+other]/community/building`` as far as it is known."""
        parts = [self.district, "+".join(self.all_streets), self.community, self.building]
        return "/".join(p for p in parts if p)

    @property
    def label(self) -> str:
        return f"{self.what} @ {self.place}"


class TruthLogError(ValueError):
    """A truth file that cannot be read; the message names the file and line."""


class TruthLog:
    """A JSONL file of truth records, one per line, in the order they were written."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def write(self, records: Iterable[TruthRecord]) -> None:
        """Replace the file with ``records``."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("".join(r.model_dump_json() + "\n" for r in records), "utf-8")

    def append(self, *records: TruthRecord) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.writelines(r.model_dump_json() + "\n" for r in records)

    def read(self) -> list[TruthRecord]:
        """Every record, blank lines skipped; a bad line raises ``TruthLogError``."""
        records = []
        text = self.path.read_text("utf-8")
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                records.append(TruthRecord.model_validate_json(line))
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                where = ".".join(str(p) for p in first["loc"]) or "(record)"
                message = str(first["msg"]).removeprefix("Value error, ")
                raise TruthLogError(
                    f"{self.path}:{n}: {where}: {message} ({exc.error_count()} problem(s)); "
                    "fix or remove the line"
                ) from None
        return records
