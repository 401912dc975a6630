"""The gateways the hub knows: who they are, where they are, what they announced at birth.

A gateway registers with its birth (``GatewayState`` with ``online=True``). The hub calls
``register`` with the district and street of the topic the birth came on; the registry refuses a
birth that contradicts its topic, names a place not in the city, or moves a gateway that is
already registered elsewhere (moving a gateway is an operator's decision: ``forget`` it first).

Records survive restarts in a JSON file, written atomically (temporary file, fsync,
``os.replace``) whenever a record changes: at once, or, in the running hub, by a
``hub.registry_saver.RegistrySaver`` off the event loop (a street's gateways all re-registering
after a power cut must not hold up its alarms behind a full rewrite and fsync per birth). A file
that cannot be read as a registry is moved aside to ``<name>.corrupt`` with a warning, and the
registry starts empty: every gateway registers again with its next birth (births are retained,
so that is at the next subscribe).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub.city import CityConfig
from hub.events import HubEvent, HubEventType
from streetwatch.ids import Slug
from streetwatch.levels import Level
from streetwatch.location import Area
from streetwatch.messages import BootId, GatewayState, SensorInfo

__all__ = [
    "GatewayRecord",
    "GatewayRegistry",
    "RefusalReason",
    "Refused",
    "Registered",
]

log = logging.getLogger(__name__)

_FILE_VERSION = 1


class GatewayRecord(BaseModel):
    """A registered gateway as of its latest accepted birth."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    gateway: Slug
    area: Area
    boot: BootId
    software: str
    config_hash: str
    sensors: Mapping[Slug, SensorInfo] = Field(description="By sensor id.")
    health_interval_s: float | None
    first_seen_ms: int = Field(ge=0, description="Hub time of the first accepted birth.")
    birth_ms: int = Field(
        ge=0, description="Hub time of the first accepted birth of the current boot."
    )


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    gateways: list[GatewayRecord]


class RefusalReason(StrEnum):
    GATEWAY_MISMATCH = "gateway_mismatch"  # payload's gateway id is not the topic's
    PLACE_MISMATCH = "place_mismatch"  # payload's district/street is not the topic's
    UNKNOWN_DISTRICT = "unknown_district"
    UNKNOWN_STREET = "unknown_street"
    UNKNOWN_COMMUNITY = "unknown_community"
    MOVED = "moved"  # registered at another area; an operator must forget it first


@dataclass(frozen=True, slots=True)
class Refused:
    """A birth the registry did not accept; ``detail`` says why, for the operator."""

    reason: RefusalReason
    detail: str
    gateway: str  # the topic's gateway
    district: str  # the topic's district and street
    street: str
    boot: str

    def event(self, now_ms: int) -> HubEvent:
        """The ``GATEWAY_REFUSED`` hub event reporting this refusal (same birth, same id)."""
        return HubEvent(
            id=f"{HubEventType.GATEWAY_REFUSED}:{self.gateway}:{self.boot}:{self.reason}",
            type=HubEventType.GATEWAY_REFUSED,
            t=now_ms,
            level=Level.BLUE,
            district=self.district,
            street=self.street,
            gateway=self.gateway,
            detail=self.detail,
        )


@dataclass(frozen=True, slots=True)
class Registered:
    """An accepted birth: the record now held, and how it differs from the one before."""

    record: GatewayRecord
    new: bool  # never registered before
    rebooted: bool  # known, with another boot id
    changed: frozenset[str]  # among software, config_hash, sensors, health_interval_s

    @property
    def unchanged(self) -> bool:
        """The same birth again (a retained birth delivered on resubscribe)."""
        return not (self.new or self.rebooted or self.changed)


_COMPARED = ("software", "config_hash", "sensors", "health_interval_s")


class GatewayRegistry:
    """The registered gateways, by id. ``path`` None keeps them in memory only."""

    def __init__(self, city: CityConfig, path: Path | None = None) -> None:
        self._city = city
        self._path = path
        self._records: dict[str, GatewayRecord] = {}
        self._on_change: Callable[[], None] | None = None  # set: saves are someone else's job
        self.dirty = False  # changed since the file was last written
        self.saves = 0  # files written

    # -- persistence -----------------------------------------------------------------------

    def open(self) -> GatewayRegistry:
        """Load the file, if any. A corrupt file is moved to ``<name>.corrupt``, with a warning.

        Records whose place is no longer in the city are dropped with a warning: their next
        birth would be refused anyway. An ``OSError`` (permissions, a directory in the way) is
        raised: that needs the operator, not an empty registry.
        """
        self._records = {}
        if self._path is None or not self._path.exists():
            return self
        raw = self._path.read_bytes()
        try:
            loaded = _File.model_validate_json(raw)
        except ValidationError as exc:
            aside = self._path.with_name(self._path.name + ".corrupt")
            os.replace(self._path, aside)
            log.warning(
                "gateway registry %s is unreadable (%s); moved it to %s and starting empty: "
                "gateways register again with their next birth",
                self._path,
                _first_error(exc),
                aside,
            )
            return self
        for record in loaded.gateways:
            if self._city.community(record.area) is None:
                log.warning(
                    "gateway %s is registered at %s, which is no longer in the city; dropped",
                    record.gateway,
                    _area_ids(record.area),
                )
                continue
            self._records[record.gateway] = record
        return self

    def defer_saves(self, on_change: Callable[[], None]) -> None:
        """From now on a change only marks the registry dirty and calls ``on_change``; whoever
        set it writes the file with ``snapshot`` and ``write``."""
        self._on_change = on_change

    def snapshot(self) -> list[GatewayRecord]:
        """The records to write now (records are frozen: safe to write from another thread);
        the registry counts as saved from here on."""
        self.dirty = False
        return list(self.records())

    def _changed(self) -> None:
        self.dirty = True
        if self._on_change is not None:
            self._on_change()
        else:
            self.write(self.snapshot())

    def write(self, records: list[GatewayRecord]) -> None:
        """Write ``records`` as the registry file, atomically (any thread)."""
        if self._path is None:
            return
        body = _File(version=_FILE_VERSION, gateways=records)
        data = json.dumps(body.model_dump(mode="json"), ensure_ascii=False, indent=1)
        directory = self._path.parent
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self._path.name + ".", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self._path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.saves += 1

    # -- queries ---------------------------------------------------------------------------

    def get(self, gateway: str) -> GatewayRecord | None:
        return self._records.get(gateway)

    def records(self) -> Iterator[GatewayRecord]:
        """Every record, by gateway id."""
        for gateway in sorted(self._records):
            yield self._records[gateway]

    def in_area(
        self, district: str, street: str, community: str | None = None
    ) -> list[GatewayRecord]:
        """The gateways of a street, or of one of its communities, by gateway id."""
        return [
            r
            for r in self.records()
            if r.area.district == district
            and r.area.street == street
            and (community is None or r.area.community == community)
        ]

    def __len__(self) -> int:
        return len(self._records)

    # -- changes ---------------------------------------------------------------------------

    def register(
        self,
        topic_district: str,
        topic_street: str,
        gateway: str,
        state: GatewayState,
        now_ms: int,
    ) -> Registered | Refused:
        """Accept a birth that came on ``.../{topic_district}/{topic_street}/{gateway}/state``."""
        if not state.online:
            raise ValueError("register takes births (online=True); give deaths to presence")
        refusal = self._check(topic_district, topic_street, gateway, state)
        if refusal is not None:
            reason, detail = refusal
            return Refused(reason, detail, gateway, topic_district, topic_street, state.boot)
        before = self._records.get(gateway)
        record = GatewayRecord(
            gateway=gateway,
            area=state.area,
            boot=state.boot,
            software=state.software,
            config_hash=state.config_hash,
            sensors={s.id: s for s in state.sensors},
            health_interval_s=state.health_interval_s,
            first_seen_ms=before.first_seen_ms if before is not None else now_ms,
            birth_ms=now_ms if before is None or before.boot != state.boot else before.birth_ms,
        )
        if before is None:
            result = Registered(record, new=True, rebooted=False, changed=frozenset())
        else:
            changed = frozenset(
                name for name in _COMPARED if getattr(before, name) != getattr(record, name)
            )
            result = Registered(record, False, before.boot != record.boot, changed)
        if record != before:
            self._records[gateway] = record
            self._changed()
        return result

    def forget(self, gateway: str) -> bool:
        """Remove a gateway (an operator moving or retiring it); False if it was not there."""
        if self._records.pop(gateway, None) is None:
            return False
        self._changed()
        return True

    def _check(
        self, district: str, street: str, gateway: str, state: GatewayState
    ) -> tuple[RefusalReason, str] | None:
        area = state.area
        if state.gateway != gateway:
            return RefusalReason.GATEWAY_MISMATCH, (
                f"a birth on the topic of gateway {gateway} says it is gateway {state.gateway}; "
                f"check the gateway id and MQTT user in that gateway's config"
            )
        if (area.district, area.street) != (district, street):
            return RefusalReason.PLACE_MISMATCH, (
                f"gateway {gateway} publishes under {district}/{street} but its birth claims "
                f"{_area_ids(area)}; correct its area or its topic so that they agree"
            )
        if self._city.district(district) is None:
            return RefusalReason.UNKNOWN_DISTRICT, (
                f"gateway {gateway} names district {district!r}, which is not in the city; add "
                f"it to the hub's city section or correct the gateway's area"
            )
        if not self._city.has_street(district, street):
            return RefusalReason.UNKNOWN_STREET, (
                f"gateway {gateway} names street {street!r}, which is not in district "
                f"{district}; add it to the hub's city section or correct the gateway's area"
            )
        if self._city.community(area) is None:
            return RefusalReason.UNKNOWN_COMMUNITY, (
                f"gateway {gateway} names community {area.community!r}, which is not in "
                f"{self._city.street_name(district, street)}; add it to the hub's city section "
                f"or correct the gateway's area"
            )
        before = self._records.get(gateway)
        if before is not None and before.area != area:
            return RefusalReason.MOVED, (
                f"gateway {gateway} is registered at {_area_ids(before.area)} but its birth says "
                f"{_area_ids(area)}; moving a gateway needs an operator: remove its registration "
                f"on the hub, then restart the gateway"
            )
        return None


def _area_ids(area: Area) -> str:
    return f"{area.district}/{area.street}/{area.community}"


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}" if where else str(err["msg"])
