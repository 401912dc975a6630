"""Sample incidents and pages for the notification tests, and a clock that records sleeps."""

from __future__ import annotations

from typing import Any

from hub.incidents.model import Incident, Signal
from hub.notify.base import Language, Notification, Recipient
from hub.notify.render import render
from streetwatch.anomalies import Hazard
from streetwatch.kinds import KindName
from streetwatch.levels import Level

OPENED_AT = 1_719_813_780_000  # 2024-07-01 06:03:00 UTC = 14:03 in Beijing
ACK_URL = "https://sw.example.cn/ack/eyJ2IjoxfQ.c2lnbmF0dXJl"
MAP_URL = "https://sw.example.cn/map/inc-1"
NAMES = {"pudong": "浦东新区", "huamu": "花木街道", "lianyang": "联洋社区", "b12": "12号楼"}


def smoke_signal(**changes: Any) -> Signal:
    values: dict[str, Any] = {
        "key": "s1/threshold/smoke_density",
        "event_id": "e1",
        "t": OPENED_AT,
        "level": Level.RED,
        "active": True,
        "source": "edge",
        "type": "threshold",
        "community": "lianyang",
        "gateway": "gw-1",
        "sensor": "s1",
        "kind": KindName.SMOKE,
        "building": "b12",
        "floor": 3,
        "metric": "smoke_density",
        "value": 0.35,
        "threshold": 0.2,
    }
    return Signal(**(values | changes))


def fire(*signals: Signal, **changes: Any) -> Incident:
    values: dict[str, Any] = {
        "id": "inc-1",
        "key": "pudong/huamu/lianyang/fire",
        "hazard": Hazard.FIRE,
        "district": "pudong",
        "street": "huamu",
        "community": "lianyang",
        "building": "b12",
        "level": Level.RED,
        "opened_at": OPENED_AT,
        "updated_at": OPENED_AT,
        "signals": signals or (smoke_signal(),),
    }
    return Incident(**(values | changes))


def person(**changes: Any) -> Recipient:
    values: dict[str, Any] = {
        "id": "p-7",
        "name": "王网格",
        "role": "grid_worker",
        "phone": "13800001111",
        "email": "wang@lianyang.example.cn",
    }
    return Recipient(**(values | changes))


def page(
    incident: Incident | None = None,
    recipient: Recipient | None = None,
    *,
    language: Language = "zh",
    attempt: int = 1,
) -> Notification:
    incident = incident or fire()
    recipient = recipient or person(language=language)
    message = render(incident, language=language, ack_url=ACK_URL, map_url=MAP_URL, names=NAMES)
    return Notification(incident, recipient, message, attempt=attempt)


class SteppingClock:
    """Wall time that moves only by the sleeps asked of it; each sleep is recorded."""

    def __init__(self, start: float = 1_719_813_800.0) -> None:
        self.t = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
