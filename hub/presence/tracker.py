"""Who is there: a state machine of gateway and sensor presence, on explicit time.

The hub feeds it (``birth``, ``death``, ``heard``, ``sensor_seen``) and calls ``tick`` every
``check_interval_s``; nothing in here reads a clock, so a replay gives the same events. Every
change raises exactly one ``HubEvent`` through ``emit``, and no later tick repeats it:

* A gateway goes down on its death (its MQTT will, cause ``death``) or after
  ``silence_factor`` × its health interval without any message (cause ``silence``). The offline
  is held ``hold_s`` so that an area outage can claim it (``hub.presence.outage``); a gateway
  that comes back within the hold raises nothing at all. Otherwise ``GATEWAY_OFFLINE`` (BLUE)
  and, when it is heard again, ``GATEWAY_ONLINE``.
* A sensor is overdue when not seen for ``offline_after_s`` + ``sensor_grace_s`` while its
  gateway is online and not in an outage (``hub.presence.sensors``).
* A death whose boot is not the registered boot is a stale will (the previous connection of a
  gateway that has already been born again) and is ignored.
* Gateways not in the registry are ignored; registered gateways the tracker has not heard of
  since it started count as online until a full silence window has passed.
* The hub's own broker connection. While it is down (``link_down``) the hub hears nobody, so
  ticks decide nothing. When a broker restarts, every gateway's will reaches the hub at once,
  just before its own link drops or just after it is back, and the gateways reconnect seconds
  later. So deaths and silence count only from a grace of ``hold_s`` after ``link_up``: an
  offline not yet reported is held from the end of the grace at the earliest (its gateway
  then has the grace and the hold to be born again), and silence and sensor windows start
  again at ``link_up``, as at a start. A ``PresenceTracker`` starts with its link up (a replay
  or a test need not call either); the hub calls ``link_down`` before its first connection.

Events from ``tick`` carry the tick's time; those raised by ``birth``, ``heard`` and
``sensor_seen`` carry the call's time (for ``sensor_seen``, the latest hub time seen so far).

Listeners in ``street_changes`` hear (district, street) whenever a gateway of the street goes
online or offline in the tracker's eyes (held offlines included) and when an area outage of the
street starts or ends; ``is_online`` and ``areas_out`` answer what the street looks like now.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from hub.events import HubEvent, HubEventType, OfflineCause
from hub.presence.config import PresenceConfig
from hub.presence.outage import GatewayView, OutageCorrelator
from hub.presence.sensors import OverdueSensor, SensorWatch
from hub.registry import GatewayRecord, GatewayRegistry
from streetwatch.levels import Level

__all__ = [
    "OfflineGateway",
    "OutageView",
    "OverdueSensor",
    "PresenceSnapshot",
    "PresenceTracker",
]


@dataclass(frozen=True, slots=True)
class OfflineGateway:
    gateway: str
    cause: OfflineCause
    since: int  # last sign of life
    reported: bool  # its own GATEWAY_OFFLINE is out (else held back, or inside an outage)


@dataclass(frozen=True, slots=True)
class OutageView:
    district: str
    street: str
    community: str | None  # None: the whole street
    level: Level
    gateways: tuple[str, ...]
    since: int


@dataclass(frozen=True, slots=True)
class PresenceSnapshot:
    gateways_online: tuple[str, ...]
    gateways_offline: tuple[OfflineGateway, ...]
    sensors_overdue: tuple[OverdueSensor, ...]
    areas_out: tuple[OutageView, ...]


@dataclass(slots=True)
class _Gateway:
    last_heard: int
    up_since: int  # its sensors count as overdue from here at the earliest
    boot: str | None = None  # of the latest birth given
    down_at: int | None = None  # None while online
    cause: OfflineCause | None = None
    since: int = 0  # last sign of life when it went down
    reported: bool = False  # GATEWAY_OFFLINE is out


class PresenceTracker:
    def __init__(
        self,
        config: PresenceConfig,
        registry: GatewayRegistry,
        *,
        emit: Callable[[HubEvent], None],
    ) -> None:
        self._config = config
        self._registry = registry
        self._emit = emit
        self.street_changes: list[Callable[[str, str], None]] = []  # (district, street)
        self._gateways: dict[str, _Gateway] = {}
        self._outages = OutageCorrelator(config)
        self._sensors = SensorWatch(_ms(config.sensor_grace_s), emit)
        self._hold_ms = _ms(config.hold_s)
        self._now = 0  # the latest hub time given to any call
        self._cut_off = False  # the hub's own broker connection is down
        self._link_up_at = 0  # silence and sensor windows start here at the earliest
        self._trusted_from = 0  # an offline's hold starts here at the earliest

    # -- inputs ----------------------------------------------------------------------------

    def birth(self, gateway: str, boot: str, now_ms: int) -> None:
        """An accepted birth: call after ``GatewayRegistry.register`` returned ``Registered``."""
        record = self._registry.get(gateway)
        if record is None or record.boot != boot:
            return
        state = self._state(gateway, now_ms)
        if state is None:
            return
        restart, state.boot = state.boot != boot, boot
        self._up(record, state, now_ms, restart=restart)

    def death(self, gateway: str, boot: str, now_ms: int) -> None:
        """A death (MQTT will); ignored unless ``boot`` is the registered boot (a stale will)."""
        record = self._registry.get(gateway)
        if record is None or record.boot != boot:
            return
        state = self._state(gateway, now_ms)
        if state is not None and state.down_at is None:
            self._down(state, now_ms, OfflineCause.DEATH)
            self._street_changed(record.area.district, record.area.street)

    def heard(self, gateway: str, now_ms: int) -> None:
        """Any message from the gateway other than its death."""
        record = self._registry.get(gateway)
        state = self._state(gateway, now_ms)
        if record is None or state is None:
            return
        down_at, cause = state.down_at, state.cause
        if down_at is not None and cause is OfflineCause.DEATH and now_ms <= down_at:
            return  # in flight with the will, not a sign of a new connection
        self._up(record, state, now_ms, restart=False)

    def sensor_seen(self, gateway: str, sensor: str, t_ms: int) -> None:
        """A sign of life of a sensor at ``t_ms`` (a reading, summary, event or health)."""
        record = self._registry.get(gateway)
        if record is not None and gateway in self._gateways:
            self._sensors.seen(record, sensor, t_ms, max(self._now, t_ms))

    def sensors_seen(self, gateway: str, latest: Mapping[str, int]) -> None:
        """``sensor_seen`` for many sensors of one gateway (sensor → its latest time)."""
        record = self._registry.get(gateway)
        if record is not None and gateway in self._gateways:
            self._sensors.seen_many(record, latest, self._now)

    def link_down(self, now_ms: int) -> None:
        """The hub's own broker connection is lost: from now on nobody's silence is a sign."""
        self._now = max(self._now, now_ms)
        self._cut_off = True

    def link_up(self, now_ms: int) -> None:
        """The hub's broker connection is back (or made for the first time): deaths and
        silence count again from ``hold_s`` on."""
        self._now = max(self._now, now_ms)
        self._cut_off = False
        self._link_up_at = now_ms
        self._trusted_from = now_ms + self._hold_ms

    def tick(self, now_ms: int) -> None:
        """Decide silences, outages, held-back offlines and overdue sensors as of ``now_ms``."""
        self._now = max(self._now, now_ms)
        records = {r.gateway: r for r in self._registry.records()}
        for gone in self._gateways.keys() - records.keys():
            del self._gateways[gone]
            self._sensors.forget(gone)
        if self._cut_off:
            return  # the hub hears nobody: no silence, no hold, no sensor means anything now
        views = []
        for record in records.values():
            state = self._gateways.get(record.gateway) or self._new(record.gateway, now_ms)
            interval_s = record.health_interval_s or self._config.default_health_interval_s
            heard = max(state.last_heard, self._link_up_at)
            deadline = heard + _ms(self._config.silence_factor * interval_s)
            if state.down_at is None and deadline <= now_ms:
                self._down(state, deadline, OfflineCause.SILENCE)
                self._street_changed(record.area.district, record.area.street)
            views.append(
                GatewayView(
                    record.gateway,
                    record.area,
                    online=state.down_at is None,
                    down_at=self._held_from(state),
                    since=state.since,
                    cause=state.cause,
                    reported=state.reported,
                )
            )
        for event in self._outages.step(now_ms, views):
            self._emit(event)
            self._street_changed(event.district, event.street)
        for record in records.values():
            state = self._gateways[record.gateway]
            covered = self._outages.covers(record.gateway)
            held_from = self._held_from(state)
            if held_from is None:
                if not covered:
                    self._sensors.check(record, max(state.up_since, self._link_up_at), now_ms)
            elif not state.reported and not covered and held_from + self._hold_ms <= now_ms:
                state.reported = True
                self._emit(self._event(HubEventType.GATEWAY_OFFLINE, record, state, now_ms))

    # -- output ----------------------------------------------------------------------------

    def is_online(self, gateway: str) -> bool:
        """Whether the gateway counts as online now (one not heard of since the start does)."""
        state = self._gateways.get(gateway)
        return state is None or state.down_at is None

    def areas_out(self) -> tuple[OutageView, ...]:
        """The area outages active now."""
        return tuple(
            OutageView(
                o.key.district,
                o.key.street,
                o.key.community,
                o.level,
                tuple(sorted(o.members)),
                o.since,
            )
            for o in self._outages.active()
        )

    def snapshot(self) -> PresenceSnapshot:
        online, offline = [], []
        for gateway, state in sorted(self._gateways.items()):
            if state.down_at is None:
                online.append(gateway)
            else:
                cause = state.cause or OfflineCause.SILENCE
                offline.append(OfflineGateway(gateway, cause, state.since, state.reported))
        overdue = tuple(self._sensors.overdue())
        return PresenceSnapshot(tuple(online), tuple(offline), overdue, self.areas_out())

    # -- internals -------------------------------------------------------------------------

    def _state(self, gateway: str, now_ms: int) -> _Gateway | None:
        self._now = max(self._now, now_ms)
        if self._registry.get(gateway) is None:
            return None
        return self._gateways.get(gateway) or self._new(gateway, now_ms)

    def _new(self, gateway: str, now_ms: int) -> _Gateway:
        state = self._gateways[gateway] = _Gateway(last_heard=now_ms, up_since=now_ms)
        return state

    def _held_from(self, state: _Gateway) -> int | None:
        """When the gateway's offline hold starts: not before the hub could hear again."""
        return None if state.down_at is None else max(state.down_at, self._trusted_from)

    def _down(self, state: _Gateway, at_ms: int, cause: OfflineCause) -> None:
        state.down_at, state.cause, state.since, state.reported = (
            at_ms,
            cause,
            state.last_heard,
            False,
        )

    def _up(self, record: GatewayRecord, state: _Gateway, now_ms: int, *, restart: bool) -> None:
        state.last_heard = max(state.last_heard, now_ms)
        if state.down_at is None and not restart:
            return
        if state.reported:
            self._emit(self._event(HubEventType.GATEWAY_ONLINE, record, state, now_ms))
        state.down_at, state.cause, state.reported = None, None, False
        state.up_since = now_ms
        self._street_changed(record.area.district, record.area.street)

    def _street_changed(self, district: str, street: str) -> None:
        for listener in self.street_changes:
            listener(district, street)

    def _event(
        self, type_: HubEventType, record: GatewayRecord, state: _Gateway, now_ms: int
    ) -> HubEvent:
        return HubEvent(
            id=f"{type_}:{record.gateway}:{state.since}",
            type=type_,
            t=now_ms,
            level=Level.BLUE,
            district=record.area.district,
            street=record.area.street,
            community=record.area.community,
            gateway=record.gateway,
            cause=state.cause,
            since=state.since,
        )


def _ms(seconds: float) -> int:
    return round(seconds * 1000)
