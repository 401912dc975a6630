"""Dashboards as the JSON Grafana reads: one file per dashboard, ``<uid>.json``, byte-stable.

Keys sorted, two-space indent, a trailing newline, Chinese kept as is: building twice gives
the same bytes, so the committed files can be compared with a fresh build (``--check``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard

from dashboards.boards import BOARDS

__all__ = ["JSON_DIR", "Staleness", "render", "rendered", "staleness", "write"]

JSON_DIR = Path(__file__).parent / "json"
"""Where the generated dashboards are committed (and mounted into Grafana)."""


def render(dashboard: Dashboard) -> str:
    """The dashboard's JSON text."""
    text = json.dumps(dashboard, cls=JSONEncoder, sort_keys=True, indent=2, ensure_ascii=False)
    return text + "\n"


def rendered() -> dict[str, str]:
    """Every dashboard's JSON text by file name (``<uid>.json``)."""
    return {f"{board.uid}.json": render(board.build()) for board in BOARDS}


def write(directory: Path) -> list[Path]:
    """Write every dashboard into ``directory``; the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in rendered().items():
        path = directory / name
        path.write_bytes(text.encode("utf-8"))
        written.append(path)
    return written


@dataclass(frozen=True, slots=True)
class Staleness:
    """How ``directory`` differs from a fresh build."""

    changed: tuple[str, ...]  # differs from the build
    missing: tuple[str, ...]  # built, not in the directory
    extra: tuple[str, ...]  # a ``.json`` the build no longer makes

    def __bool__(self) -> bool:
        return bool(self.changed or self.missing or self.extra)


def staleness(directory: Path) -> Staleness:
    fresh = rendered()
    present = {p.name for p in directory.glob("*.json")} if directory.is_dir() else set()
    changed = [n for n in sorted(fresh) if n in present
               and (directory / n).read_bytes() != fresh[n].encode("utf-8")]  # fmt: skip
    return Staleness(
        changed=tuple(changed),
        missing=tuple(sorted(set(fresh) - present)),
        extra=tuple(sorted(present - set(fresh))),
    )
