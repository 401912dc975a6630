"""Every MQTT topic StreetWatch uses is built and parsed here, and nowhere else.

StreetWatch's own tree::

    sw/v1/{district}/{street}/{gateway}/state        retained birth; the MQTT will is the death
    sw/v1/{district}/{street}/{gateway}/data         telemetry batches (QoS 1)
    sw/v1/{district}/{street}/{gateway}/event        anomaly events (QoS 1)
    sw/v1/{district}/{street}/{gateway}/health       periodic gateway health
    sw/v1/{district}/{street}/{gateway}/cmd/{name}   hub → gateway commands
    sw/v1/{district}/{street}/incident               the hub's current incidents (retained)

A ``TopicTree`` may carry a prefix (a deployment namespace, or a unique prefix per test), so
``TopicTree("t-1a2b")`` builds ``t-1a2b/sw/v1/...``. Segments are slugs (see ``streetwatch.ids``):
no ``/``, ``+``, ``#`` can sneak into a topic.

Device ecosystems publish on their own trees on the gateway's local broker; ``DeviceTopic``
parses and builds those (Zigbee2MQTT, ChirpStack v4, Tasmota, or an exact topic for plain JSON).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from streetwatch.ids import InvalidSlugError, known_slug
from streetwatch.kinds import Ecosystem

ROOT = ("sw", "v1")
INCIDENT = "incident"


class TopicError(ValueError):
    """A topic that StreetWatch does not build, or a segment that is not allowed in one."""


class Channel(StrEnum):
    STATE = "state"
    DATA = "data"
    EVENT = "event"
    HEALTH = "health"
    CMD = "cmd"


def _segment(value: str, what: str) -> str:
    try:
        return known_slug(value, what)  # every message's topic: cached
    except InvalidSlugError as exc:
        raise TopicError(str(exc)) from None


@dataclass(frozen=True, slots=True)
class GatewayTopic:
    """A topic of one gateway's channel (``command`` is set exactly for ``cmd``)."""

    district: str
    street: str
    gateway: str
    channel: Channel
    command: str | None = None

    def __post_init__(self) -> None:
        _segment(self.district, "district")
        _segment(self.street, "street")
        _segment(self.gateway, "gateway")
        if (self.channel is Channel.CMD) != (self.command is not None):
            raise TopicError("a command name goes with the cmd channel, and only with it")
        if self.command is not None:
            _segment(self.command, "command name")


@dataclass(frozen=True, slots=True)
class IncidentTopic:
    """The topic on which the hub publishes one street's current incidents."""

    district: str
    street: str

    def __post_init__(self) -> None:
        _segment(self.district, "district")
        _segment(self.street, "street")


@dataclass(frozen=True, slots=True)
class Scope:
    """Everything (no fields), one district, or one street of a district."""

    district: str | None = None
    street: str | None = None

    def __post_init__(self) -> None:
        if self.street is not None and self.district is None:
            raise TopicError("a street scope needs its district")
        if self.district is not None:
            _segment(self.district, "district")
        if self.street is not None:
            _segment(self.street, "street")

    @classmethod
    def parse(cls, text: str) -> Scope:
        """``"*"`` or ``""`` for everything, ``"district"`` or ``"district/street"``."""
        if text in ("", "*"):
            return cls()
        parts = text.split("/")
        if len(parts) > 2:
            raise TopicError(f"scope {text!r} must be 'district' or 'district/street'")
        return cls(*parts)


@dataclass(frozen=True, slots=True)
class TopicTree:
    """Builds and parses StreetWatch topics under an optional prefix."""

    prefix: str = ""

    def __post_init__(self) -> None:
        if self.prefix:
            for part in self.prefix.split("/"):
                _segment(part, "topic prefix segment")

    @property
    def _root(self) -> tuple[str, ...]:
        return (*self.prefix.split("/"), *ROOT) if self.prefix else ROOT

    def build(self, topic: GatewayTopic | IncidentTopic) -> str:
        if isinstance(topic, IncidentTopic):
            return "/".join((*self._root, topic.district, topic.street, INCIDENT))
        parts = [*self._root, topic.district, topic.street, topic.gateway, topic.channel.value]
        if topic.command is not None:
            parts.append(topic.command)
        return "/".join(parts)

    def gateway(
        self, district: str, street: str, gateway: str, channel: Channel, command: str | None = None
    ) -> str:
        return self.build(GatewayTopic(district, street, gateway, channel, command))

    def incident(self, district: str, street: str) -> str:
        return self.build(IncidentTopic(district, street))

    def parse(self, topic: str) -> GatewayTopic | IncidentTopic:
        """The value a topic string stands for, or a ``TopicError`` saying what is wrong."""
        parts = topic.split("/")
        root = self._root
        if tuple(parts[: len(root)]) != root:
            raise TopicError(f"topic {topic!r} is not under {'/'.join(root)}/")
        rest = parts[len(root) :]
        if len(rest) == 3 and rest[2] == INCIDENT:
            return IncidentTopic(rest[0], rest[1])
        if len(rest) == 4 or (len(rest) == 5 and rest[3] == Channel.CMD.value):
            district, street, gateway, channel = rest[:4]
            try:
                chan = Channel(channel)
            except ValueError:
                raise TopicError(f"topic {topic!r}: unknown channel {channel!r}") from None
            command = rest[4] if len(rest) == 5 else None
            return GatewayTopic(district, street, gateway, chan, command)
        raise TopicError(f"topic {topic!r} does not have the shape of a StreetWatch topic")

    def filter(self, scope: Scope, channel: Channel, gateway: str | None = None) -> str:
        """A subscription filter for one channel of every gateway in ``scope``."""
        parts = [*self._root, scope.district or "+", scope.street or "+"]
        if gateway is not None:
            parts.append(_segment(gateway, "gateway"))
        else:
            parts.append("+")
        parts.append(channel.value)
        if channel is Channel.CMD:
            parts.append("+")
        return "/".join(parts)

    def filters(self, scope: Scope, channels: tuple[Channel, ...]) -> list[str]:
        return [self.filter(scope, channel) for channel in channels]

    def incident_filter(self, scope: Scope) -> str:
        return "/".join((*self._root, scope.district or "+", scope.street or "+", INCIDENT))

    def gateway_commands(self, district: str, street: str, gateway: str) -> str:
        """The filter a gateway subscribes to for every command addressed to it."""
        return self.filter(Scope(district, street), Channel.CMD, gateway)


# ---------------------------------------------------------------------------------------------
# Device ecosystems on a gateway's local broker.


class Subject(StrEnum):
    """What a device topic carries."""

    STATE = "state"  # measurements: Z2M device state, ChirpStack uplink, Tasmota SENSOR, JSON
    STATUS = "status"  # device status: ChirpStack event/status (battery)
    AVAILABILITY = "availability"  # online/offline: Z2M availability, Tasmota LWT


_Z2M_SKIP = ("bridge",)
_CHIRPSTACK_SUBJECTS = {"up": Subject.STATE, "status": Subject.STATUS}
_TASMOTA_SUBJECTS = {"SENSOR": Subject.STATE, "LWT": Subject.AVAILABILITY}


@dataclass(frozen=True, slots=True)
class DeviceTopic:
    """A device's topic in its ecosystem's tree; ``device`` is how the ecosystem names it."""

    ecosystem: Ecosystem
    device: str
    subject: Subject = Subject.STATE

    def build(self, base: str | None = None) -> str:
        root = base or DEFAULT_BASES[self.ecosystem]
        match self.ecosystem:
            case Ecosystem.ZIGBEE2MQTT:
                tail = "/availability" if self.subject is Subject.AVAILABILITY else ""
                return f"{root}/{self.device}{tail}"
            case Ecosystem.CHIRPSTACK:
                app, _, eui = self.device.partition(":")
                event = {v: k for k, v in _CHIRPSTACK_SUBJECTS.items()}[self.subject]
                return f"{root}/{app}/device/{eui}/event/{event}"
            case Ecosystem.TASMOTA:
                suffix = {v: k for k, v in _TASMOTA_SUBJECTS.items()}[self.subject]
                return f"{root}/{self.device}/{suffix}"
            case Ecosystem.JSON:
                return self.device
        raise TopicError(f"unknown ecosystem {self.ecosystem}")  # pragma: no cover


DEFAULT_BASES: dict[Ecosystem, str] = {
    Ecosystem.ZIGBEE2MQTT: "zigbee2mqtt",
    Ecosystem.CHIRPSTACK: "application",
    Ecosystem.TASMOTA: "tele",
    Ecosystem.JSON: "",
}


def device_filter(ecosystem: Ecosystem, base: str | None = None) -> str:
    """The local-broker subscription that sees every device of an ecosystem."""
    root = base or DEFAULT_BASES[ecosystem]
    match ecosystem:
        case Ecosystem.ZIGBEE2MQTT:
            return f"{root}/#"
        case Ecosystem.CHIRPSTACK:
            return f"{root}/+/device/+/event/+"
        case Ecosystem.TASMOTA:
            return f"{root}/+/+"
        case _:
            raise TopicError("plain JSON devices are subscribed by their exact topic")


def parse_device_topic(ecosystem: Ecosystem, topic: str, base: str | None = None) -> DeviceTopic:
    """Which device (and what about it) a topic of ``ecosystem``'s tree is.

    ChirpStack devices are named ``"<application id>:<dev_eui>"``. Raises ``TopicError`` for
    topics that carry no device data (Zigbee2MQTT's bridge topics, ChirpStack join/ack events).
    """
    if ecosystem is Ecosystem.JSON:
        return DeviceTopic(ecosystem, topic)
    root = base or DEFAULT_BASES[ecosystem]
    if not topic.startswith(root + "/"):
        raise TopicError(f"{topic!r} is not under {root}/")
    rest = topic[len(root) + 1 :]
    parts = rest.split("/")
    match ecosystem:
        case Ecosystem.ZIGBEE2MQTT:
            if not rest or parts[0] in _Z2M_SKIP or parts[-1] in ("set", "get"):
                raise TopicError(f"{topic!r} is not a Zigbee2MQTT device state")
            if parts[-1] == "availability" and len(parts) > 1:
                return DeviceTopic(ecosystem, "/".join(parts[:-1]), Subject.AVAILABILITY)
            return DeviceTopic(ecosystem, rest)
        case Ecosystem.CHIRPSTACK:
            if len(parts) == 5 and parts[1] == "device" and parts[3] == "event":
                subject = _CHIRPSTACK_SUBJECTS.get(parts[4])
                if subject is not None:
                    return DeviceTopic(ecosystem, f"{parts[0]}:{parts[2].lower()}", subject)
            raise TopicError(f"{topic!r} is not a ChirpStack uplink or status event")
        case Ecosystem.TASMOTA:
            if len(parts) == 2 and parts[1] in _TASMOTA_SUBJECTS:
                return DeviceTopic(ecosystem, parts[0], _TASMOTA_SUBJECTS[parts[1]])
            raise TopicError(f"{topic!r} is not a Tasmota SENSOR or LWT topic")
    raise TopicError(f"unknown ecosystem {ecosystem}")  # pragma: no cover
