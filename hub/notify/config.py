"""The ``notify`` section of hub.yaml: who must answer a warning (叫应), how, and how fast.

* ``responders``: people with a role (网格员, 社区, 街道办, 区), the area they answer for and their
  channels in fallback order (IM, then SMS, then e-mail).
* ``channels``: channel instances by name, ``{type: <registered channel type>, ...}``; each is
  checked against ``hub.notify.base.CHANNELS[type].config``.
* ``policy``: per paged level, the ack timeout, the re-sends and the tiers. A level given in the
  file is merged over its defaults (red 120 s, orange 300 s, yellow 900 s); blue pages nobody.

The schedule a policy gives (``LevelPolicy.tier_at``), with T = ``ack_timeout_s`` and
n = ``renotify``: round r goes out r·T after paging starts; rounds 0..n page tier 0, round n+k
escalates to tier k, every round re-pages every tier already reached. Red with the defaults:
社区 at 0 and 2 min, 街道 at 4 min, 区 at 6 min, then all of them every 2 min.
"""

from __future__ import annotations

import importlib
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from hub.city import CityConfig
from hub.notify.base import CHANNELS, ChannelType, Language, Recipient
from hub.notify.roster import DutyHours
from streetwatch.config import FieldPath, Section, secret_paths
from streetwatch.ids import Slug
from streetwatch.levels import Level

__all__ = ["LevelPolicy", "NotifyConfig", "Responder", "Role"]


class Role(StrEnum):
    GRID_WORKER = "grid_worker"  # 网格员
    COMMUNITY = "community"  # 社区
    STREET = "street"  # 街道办
    DISTRICT = "district"  # 区


class Responder(Section):
    id: Slug = Field(description="Id used in ack links and the audit trail.")
    name: str = Field(min_length=1, max_length=64, description="Name shown to people.")
    role: Role = Field(description="grid_worker, community, street or district.")
    district: Slug = Field(description="The district (区) this person answers for.")
    street: Slug | None = Field(None, description="The street; optional for the district role.")
    community: Slug | None = Field(None, description="The community (grid_worker, community).")
    phone: str | None = Field(None, pattern=r"^\+?[0-9][0-9 -]{4,19}$", description="For SMS.")
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+$", description="For e-mail.")
    language: Language = Field("zh", description="Language of the messages: zh or en.")
    contact: list[Slug] = Field(
        min_length=1, max_length=8, description="Channel names in fallback order: IM, SMS, e-mail."
    )
    duty_hours: str | None = Field(
        None,
        description="'08:00-20:00' (Asia/Shanghai): outside them the person is skipped unless "
        "nobody on their tier is on duty. Leave out for 24 h.",
    )
    extra: dict[str, str] = Field(
        default_factory=dict, description="Per-channel addresses, e.g. an IM user id."
    )

    @field_validator("duty_hours")
    @classmethod
    def _duty(cls, value: str | None) -> str | None:
        if value is not None:
            DutyHours.parse(value)
        return value

    @model_validator(mode="after")
    def _area(self) -> Self:
        if self.role is not Role.DISTRICT and self.street is None:
            raise ValueError(f"a {self.role} responder needs the street they answer for")
        if self.role in (Role.GRID_WORKER, Role.COMMUNITY) and self.community is None:
            raise ValueError(f"a {self.role} responder needs the community they answer for")
        if self.community is not None and self.street is None:
            raise ValueError("a community needs its street")
        if len(set(self.contact)) != len(self.contact):
            raise ValueError("a channel appears twice in contact; list each once")
        return self

    def on_duty(self, t: float) -> bool:
        return self.duty_hours is None or DutyHours.parse(self.duty_hours).contains(t)

    def recipient(self) -> Recipient:
        return Recipient(
            self.id, self.name, self.role.value, self.phone, self.email, self.language, self.extra
        )


_COMMUNITY_TIER = [Role.GRID_WORKER, Role.COMMUNITY]


class LevelPolicy(Section):
    ack_timeout_s: float = Field(ge=10, le=86400, description="Unanswered this long: next round.")
    renotify: int = Field(1, ge=0, le=20, description="Re-sends to tier 0 before escalating.")
    tiers: list[list[Role]] = Field(
        default_factory=lambda: [list(_COMMUNITY_TIER), [Role.STREET], [Role.DISTRICT]],
        min_length=1,
        max_length=6,
        description="Roles of each tier in escalation order: 社区 → 街道 → 区.",
    )
    fallback_delay_s: float = Field(
        30, ge=0, le=3600, description="A failed delivery tries the person's next channel after."
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        roles = [role for tier in self.tiers for role in tier]
        if not all(self.tiers):
            raise ValueError("a tier needs at least one role")
        if len(set(roles)) != len(roles):
            raise ValueError("a role appears in two tiers; each role belongs to one tier")
        if self.fallback_delay_s >= self.ack_timeout_s:
            raise ValueError("fallback_delay_s must be shorter than ack_timeout_s")
        return self

    def tier_at(self, round_: int) -> int:
        """The highest tier paged by round ``round_`` (0 is the first page)."""
        return 0 if round_ <= self.renotify else min(round_ - self.renotify, len(self.tiers) - 1)

    def first_round_of(self, tier: int) -> int:
        """The first round that reaches ``tier``."""
        return 0 if tier == 0 else self.renotify + tier


_DEFAULT_POLICY: dict[str, dict[str, Any]] = {
    "yellow": {
        "ack_timeout_s": 900,
        "fallback_delay_s": 60,
        "tiers": [_COMMUNITY_TIER, ["street"]],
    },
    "orange": {"ack_timeout_s": 300},
    "red": {"ack_timeout_s": 120},
}


def _check_channel(spec: dict[str, Any]) -> dict[str, Any]:
    kind = spec.get("type")
    if not isinstance(kind, str) or not kind:
        raise ValueError("a channel needs 'type: <channel type>', e.g. 'type: webhook'")
    importlib.import_module("hub.notify.channels")  # registers the channel types
    if not CHANNELS:
        return spec  # no channel types yet: checked when the senders are built
    entry = CHANNELS.get(kind)
    if entry is None:
        raise ValueError(
            f"unknown channel type {kind!r}; known types: {', '.join(sorted(CHANNELS))}"
        )
    try:
        entry.config.model_validate({k: v for k, v in spec.items() if k != "type"})
    except ValidationError as exc:
        raise ValueError(
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        ) from None
    # Kept as given (the type decides the model), but its secrets hidden like every other:
    # the config's repr, str and JSON show '**********'.
    hidden = {path[0] for path in secret_paths(entry.config) if len(path) == 1}
    return {k: SecretStr(v) if k in hidden and isinstance(v, str) else v for k, v in spec.items()}


class NotifyConfig(Section):
    responders: list[Responder] = Field(default_factory=list, description="Who answers.")
    channels: dict[Slug, Annotated[dict[str, Any], AfterValidator(_check_channel)]] = Field(
        default_factory=dict, description="Channel instances by name: {type: ..., ...config}."
    )
    policy: dict[Level, LevelPolicy] = Field(
        default_factory=dict,
        validate_default=True,
        description="Per paged level (yellow, orange, red), merged over the defaults.",
    )
    map_url: str | None = Field(
        "https://uri.amap.com/marker?position={lon},{lat}&name={name}&coordinate=wgs84",
        max_length=500,
        description="A map link in every message, with {lat}, {lon} (WGS-84) and {name}; "
        "None for no map link. The default opens Amap (高德) on any phone.",
    )

    @field_validator("map_url")
    @classmethod
    def _map_template(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                value.format(lat=31.2, lon=121.5, name="x")
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(
                    f"map_url may use only {{lat}}, {{lon}} and {{name}} (problem: {exc})"
                ) from None
        return value

    @field_validator("policy", mode="before")
    @classmethod
    def _with_defaults(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        merged: dict[str, Any] = {k: dict(v) for k, v in _DEFAULT_POLICY.items()}
        for key, given in value.items():
            name = key.value if isinstance(key, Level) else key
            base = merged.get(name)
            merged[name] = {**base, **given} if base and isinstance(given, dict) else given
        return merged

    @field_validator("policy")
    @classmethod
    def _paged_levels(cls, value: dict[Level, LevelPolicy]) -> dict[Level, LevelPolicy]:
        for level in (Level.NONE, Level.BLUE):
            if level in value:
                raise ValueError(f"{level} pages nobody (叫应 starts at yellow); remove it")
        return value

    def channel_config(self, name: str) -> tuple[ChannelType, BaseModel]:
        """The registered type of channel ``name`` and its validated config."""
        spec = self.channels[name]
        entry = CHANNELS[spec["type"]]
        return entry, entry.config.model_validate({k: v for k, v in spec.items() if k != "type"})

    def problems(
        self, city: CityConfig | None = None, prefix: FieldPath = ()
    ) -> list[tuple[FieldPath, str]]:
        """Errors across fields: duplicate ids, unknown channels, places not in ``city``."""
        out: list[tuple[FieldPath, str]] = []
        first: dict[str, int] = {}
        for i, person in enumerate(self.responders):
            where = (*prefix, "responders", i)
            if person.id in first:
                why = f"(first at responders[{first[person.id]}]); give each person their own id"
                out.append(((*where, "id"), f"responder id {person.id!r} is used twice {why}"))
            first.setdefault(person.id, i)
            for j, name in enumerate(person.contact):
                if name not in self.channels:
                    why = "is not defined under channels; define it or remove it from contact"
                    out.append(((*where, "contact", j), f"channel {name!r} {why}"))
            if city is not None:
                out.extend(_place_problems(person, city, where))
        return out

    def gaps(self, city: CityConfig, prefix: FieldPath = ()) -> list[tuple[FieldPath, str]]:
        """Warnings: a street of ``city`` with nobody for a tier some policy uses."""
        seen: dict[tuple[str, str, int], list[Level]] = {}
        for level, policy in self.policy.items():
            for k, roles in enumerate(policy.tiers):
                for district in city.districts:
                    for street in district.streets:
                        if not any(
                            _answers(p, district.id, street.id, roles) for p in self.responders
                        ):
                            seen.setdefault((district.id, street.id, k), []).append(level)
        return [
            (
                (*prefix, "policy", levels[0].value, "tiers", k),
                f"street {d}/{s} has nobody for tier {k} "
                f"({', '.join(self.policy[levels[0]].tiers[k])}) of "
                f"{', '.join(level.value for level in levels)} warnings; its pages skip that tier",
            )
            for (d, s, k), levels in seen.items()
        ]


def _answers(person: Responder, district: str, street: str, roles: list[Role]) -> bool:
    return person.role in roles and person.district == district and person.street in (None, street)


def _place_problems(
    person: Responder, city: CityConfig, where: FieldPath
) -> list[tuple[FieldPath, str]]:
    if city.district(person.district) is None:
        return [((*where, "district"), f"district {person.district!r} is not in the city")]
    if person.street is None:
        return []
    street = city.street(person.district, person.street)
    if street is None:
        return [((*where, "street"), f"street {person.street!r} is not in {person.district}")]
    if person.community is not None and street.community(person.community) is None:
        return [
            (
                (*where, "community"),
                f"community {person.community!r} is not in {person.district}/{person.street}",
            )
        ]
    return []
