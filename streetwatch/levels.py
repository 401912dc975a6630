"""Warning levels: none < blue (IV) < yellow (III) < orange (II) < red (I).

China's public-emergency warnings use four colours (GB/T "突发事件预警信息" practice); flood and
weather warnings share them. ``Level`` is a string enum so it reads as ``"red"`` on the wire and
in config, and it is ordered by severity, so ``max(levels)`` is the most severe one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


@dataclass(frozen=True, slots=True)
class LevelInfo:
    """How a level is named to people."""

    rank: int
    roman: str  # the official grade: IV is the lowest warning, I the highest
    zh: str  # colour name in Chinese
    zh_grade: str  # severity word used in official warnings
    en: str


_INFO: dict[str, LevelInfo] = {
    "none": LevelInfo(0, "", "无", "正常", "normal"),
    "blue": LevelInfo(1, "IV", "蓝色", "一般", "blue"),
    "yellow": LevelInfo(2, "III", "黄色", "较重", "yellow"),
    "orange": LevelInfo(3, "II", "橙色", "严重", "orange"),
    "red": LevelInfo(4, "I", "红色", "特别严重", "red"),
}


class Level(StrEnum):
    """A warning level, comparable by severity (``Level.RED > Level.ORANGE``)."""

    NONE = "none"
    BLUE = "blue"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"

    @property
    def info(self) -> LevelInfo:
        return _INFO[self.value]

    @property
    def rank(self) -> int:
        return _INFO[self.value].rank

    @property
    def roman(self) -> str:
        return _INFO[self.value].roman

    @property
    def zh(self) -> str:
        """``"红色预警（I级，特别严重）"`` style label for a level; ``"正常"`` for none."""
        info = _INFO[self.value]
        if self is Level.NONE:
            return info.zh_grade
        return f"{info.zh}预警（{info.roman}级，{info.zh_grade}）"

    @property
    def en(self) -> str:
        info = _INFO[self.value]
        if self is Level.NONE:
            return info.en
        return f"{info.en} warning (level {info.roman})"

    @classmethod
    def from_rank(cls, rank: int) -> Level:
        for level in cls:
            if level.rank == rank:
                return level
        raise ValueError(f"no warning level has rank {rank}; ranks go from 0 (none) to 4 (red)")

    def raised(self, steps: int = 1) -> Level:
        """The level ``steps`` grades more severe, capped at red."""
        return Level.from_rank(min(self.rank + steps, Level.RED.rank))

    # StrEnum would compare alphabetically; severity is what matters. A plain string is refused
    # rather than answered with NotImplemented, which would let str's reflected comparison
    # order ``Level.RED < "blue"`` alphabetically.
    def __lt__(self, other: Any) -> bool:
        return self.rank < _rank_of(other, "<")

    def __le__(self, other: Any) -> bool:
        return self.rank <= _rank_of(other, "<=")

    def __gt__(self, other: Any) -> bool:
        return self.rank > _rank_of(other, ">")

    def __ge__(self, other: Any) -> bool:
        return self.rank >= _rank_of(other, ">=")

    def __hash__(self) -> int:
        return hash(self.value)


def _rank_of(other: Any, op: str) -> int:
    if not isinstance(other, Level):
        raise TypeError(
            f"'{op}' not supported between Level and {type(other).__name__}; "
            "convert with Level(value) first"
        )
    return other.rank


WARNING_LEVELS: tuple[Level, ...] = (Level.BLUE, Level.YELLOW, Level.ORANGE, Level.RED)
"""The four warning levels, least severe first (``Level.NONE`` is not a warning)."""
