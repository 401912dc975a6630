"""The city the hub serves: districts (区) → streets (街道) → communities (社区).

The ``city`` section of hub.yaml (see ``examples/hub.yaml``). Ids are slugs that appear in topics
and births; names are for people. An id must be unique among its siblings (two streets of one
district cannot share an id, streets of different districts may). Duplicates are not refused by
validation but listed by ``CityConfig.problems()`` with the path of the offending ``id``, so that
``check-config`` points at its line and reports every duplicate at once.

Topics carry only district and street; the community is known from a gateway's birth, so the
registry checks it here (``CityConfig.community``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import Field, PrivateAttr, ValidationError

from streetwatch.config import ConfigError, ConfigProblem, FieldPath, Section, parse_yaml
from streetwatch.ids import Slug
from streetwatch.location import Area, Coordinates

__all__ = ["CityConfig", "Community", "District", "Street", "load_city"]


class _Named(Section):
    id: Slug = Field(description="Id used in topics and births (lowercase slug).")
    zh: str = Field(min_length=1, max_length=64, description="Official Chinese name.")
    en: str = Field(
        min_length=1, max_length=128, description="English or pinyin name, e.g. 'Huamu'."
    )
    coordinates: Coordinates | None = Field(
        default=None, description="A representative point (WGS-84), e.g. the office, for maps."
    )

    @property
    def label(self) -> str:
        """``"花木街道 (Huamu)"``: how the place is named to people."""
        return f"{self.zh} ({self.en})"


class Community(_Named):
    """A community (社区 or 村): the smallest area a gateway is registered in."""


class Street(_Named):
    """A street office (街道 or 镇): the first responder of its communities."""

    communities: list[Community] = Field(
        default_factory=list, description="The communities of this street."
    )

    def community(self, community_id: str) -> Community | None:
        return next((c for c in self.communities if c.id == community_id), None)


class District(_Named):
    """A district (区): takes over when an event is larger than one street."""

    streets: list[Street] = Field(default_factory=list, description="The streets of this district.")

    def street(self, street_id: str) -> Street | None:
        return next((s for s in self.streets if s.id == street_id), None)


class CityConfig(Section):
    """The ``city`` section of hub.yaml: the places the hub accepts gateways from."""

    districts: list[District] = Field(
        default_factory=list, description="The districts served by this hub, with their streets."
    )
    _streets: dict[tuple[str, str], Street] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        # First occurrence wins, like the lookups on District and Street; duplicates are
        # reported by problems().
        for district in self.districts:
            for street in district.streets:
                self._streets.setdefault((district.id, street.id), street)

    # -- lookups ---------------------------------------------------------------------------

    def district(self, district_id: str) -> District | None:
        return next((d for d in self.districts if d.id == district_id), None)

    def street(self, district_id: str, street_id: str) -> Street | None:
        return self._streets.get((district_id, street_id))

    def has_street(self, district_id: str, street_id: str) -> bool:
        return (district_id, street_id) in self._streets

    def community(self, area: Area) -> Community | None:
        """The community of ``area``, or None if any of its three ids is not in the city."""
        street = self.street(area.district, area.street)
        return street.community(area.community) if street is not None else None

    def communities(self, district_id: str, street_id: str) -> Iterator[Community]:
        """The communities of a street, in file order; nothing for an unknown street."""
        street = self.street(district_id, street_id)
        yield from street.communities if street is not None else ()

    def street_name(self, district_id: str, street_id: str) -> str:
        """``"花木街道 (Huamu)"``; the ids (``"pudong/huamu"``) for a street not in the city."""
        street = self.street(district_id, street_id)
        return street.label if street is not None else f"{district_id}/{street_id}"

    def area_name(self, area: Area) -> str:
        """``"花木街道 (Huamu) 联洋社区 (Lianyang)"``, falling back to ids where unknown."""
        community = self.community(area)
        tail = community.label if community is not None else area.community
        return f"{self.street_name(area.district, area.street)} {tail}"

    # -- checks ----------------------------------------------------------------------------

    def problems(self, prefix: FieldPath = ()) -> list[tuple[FieldPath, str]]:
        """Duplicate ids, each as (path of the repeated ``id``, message); ``prefix`` is where
        this section sits in its file, e.g. ``("city",)``."""
        return city_problems(self.model_dump(mode="python"), prefix)

    @property
    def street_count(self) -> int:
        return len(self._streets)


def city_problems(data: Any, prefix: FieldPath = ()) -> list[tuple[FieldPath, str]]:
    """Duplicate ids in raw city data, also when the rest of it failed validation.

    The hub config's ``partial_problems`` can call this on the ``city`` mapping it was given.
    """
    problems: list[tuple[FieldPath, str]] = []
    districts = _items(data, "districts")
    _duplicates(districts, (*prefix, "districts"), "district", "the city", problems)
    for i, district in districts:
        where = (*prefix, "districts", i)
        name = _id(district) or f"districts[{i}]"
        streets = _items(district, "streets")
        _duplicates(streets, (*where, "streets"), "street", f"district {name}", problems)
        for j, street in streets:
            sname = _id(street) or f"streets[{j}]"
            _duplicates(
                _items(street, "communities"),
                (*where, "streets", j, "communities"),
                "community",
                f"street {name}/{sname}",
                problems,
            )
    return problems


def _items(data: Any, key: str) -> list[tuple[int, Any]]:
    value = data.get(key) if isinstance(data, Mapping) else None
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(enumerate(value))
    return []


def _id(item: Any) -> str | None:
    value = item.get("id") if isinstance(item, Mapping) else None
    return value if isinstance(value, str) else None


def _duplicates(
    items: list[tuple[int, Any]],
    path: FieldPath,
    what: str,
    parent: str,
    problems: list[tuple[FieldPath, str]],
) -> None:
    first: dict[str, int] = {}
    for i, item in items:
        ident = _id(item)
        if ident is None:
            continue
        if ident in first:
            problems.append(
                (
                    (*path, i, "id"),
                    f"{what} id {ident!r} is used twice in {parent} (first at "
                    f"{path[-1]}[{first[ident]}]); give each {what} its own id",
                )
            )
        else:
            first[ident] = i


def load_city(path: str | Path) -> CityConfig:
    """Read a city file (the ``city`` section on its own) or raise ``ConfigError`` listing every
    problem with file, line and field."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigProblem(file, None, "", f"cannot read: {exc}")]) from None
    doc = parse_yaml(text, file)
    problems = [
        ConfigProblem(file, doc.line_of(dup), _field(dup), "key appears twice; keep one")
        for dup in doc.duplicates
    ]
    try:
        city = CityConfig.model_validate(doc.data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            message = str(err["msg"]).removeprefix("Value error, ")
            problems.append(ConfigProblem(file, doc.line_of(loc), _field(loc), message))
        found = city_problems(doc.data)
    else:
        found = city.problems()
    problems += [ConfigProblem(file, doc.line_of(p), _field(p), m) for p, m in found]
    if problems:
        raise ConfigError(problems)
    return city


def _field(loc: FieldPath) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
