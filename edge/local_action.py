"""Warn the community itself when the hub cannot be reached (断网不断预警).

While the uplink is down, a raised orange or red event (configurable) publishes to a local
siren or broadcast topic on the gateway's broker and/or calls a local webhook. The hub can
silence the siren with a command.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import httpx
import orjson

from edge.config import LocalActionConfig, SensorConfig
from streetwatch.counters import Counters
from streetwatch.messages import AnomalyEvent, EventState

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes], Awaitable[None]]


class LocalAlarm:
    def __init__(
        self,
        config: LocalActionConfig,
        *,
        publish: Publish,
        http: httpx.AsyncClient | None,
        counters: Counters,
    ) -> None:
        self.config = config
        self._publish = publish
        self._http = http
        self.counters = counters
        self.uplink_up = False
        self.silenced_until_ms: int | None = None

    def silence(self, until_ms: int | None, now_ms: int) -> None:
        self.silenced_until_ms = until_ms if until_ms is not None else now_ms + 3600_000

    def should_sound(self, event: AnomalyEvent, now_ms: int) -> bool:
        if event.state is not EventState.RAISED or event.test or not event.type.pages_responders:
            return False
        if event.level < self.config.min_level:
            return False
        if self.config.only_when_uplink_down and self.uplink_up:
            return False
        return self.silenced_until_ms is None or now_ms >= self.silenced_until_ms

    async def on_event(self, event: AnomalyEvent, sensor: SensorConfig, now_ms: int) -> bool:
        """Sound locally if the rules say so; True when something was triggered."""
        if not self.should_sound(event, now_ms):
            return False
        body = _announcement(event, sensor)
        sounded = False
        if self.config.siren_topic:
            try:
                await self._publish(self.config.siren_topic, orjson.dumps(body))
                sounded = True
                self.counters.add("local_action", "siren")
            except Exception as exc:  # the siren failing must not stop detection
                self.counters.add("local_action_failed", "siren")
                log.error("local siren failed: %s", exc)
        if self.config.webhook_url and self._http is not None:
            try:
                response = await self._http.post(self.config.webhook_url, json=body, timeout=5.0)
                response.raise_for_status()
                sounded = True
                self.counters.add("local_action", "webhook")
            except httpx.HTTPError as exc:
                self.counters.add("local_action_failed", "webhook")
                log.error("local webhook failed: %s", exc)
        return sounded


def _announcement(event: AnomalyEvent, sensor: SensorConfig) -> dict[str, object]:
    kind = sensor.sensor_kind
    place = sensor.placement
    parts = []
    if place.building:
        parts.append(f"{place.building}栋")
    if place.floor is not None:
        parts.append(f"{place.floor}层")
    if place.risk_point:
        parts.append(place.risk_point.zh)
    where = "".join(parts)
    text = f"{event.level.zh}：{where}{kind.zh}{kind.hazard.zh}告警，请立即处置。"
    return {
        "level": event.level.value,
        "hazard": kind.hazard.value,
        "sensor": sensor.id,
        "event": event.id,
        "text": text,
        "t": event.t,
    }
