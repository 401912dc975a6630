"""hub.yaml: what an operator sets up for a street (or city) hub.

Loaded with ``streetwatch.config.load_config`` (YAML, then ``STREETWATCH_HUB_*`` environment
overrides; every error with file, line and field). Secrets come only from the environment:
``STREETWATCH_HUB_MQTT__PASSWORD``, ``STREETWATCH_HUB_STORAGE__INFLUXDB_V2__TOKEN``...
Relative paths are relative to ``state_dir``, itself relative to the config file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

import hub.notify.channels  # noqa: F401 (registers the channel types)
from hub.api.config import ApiConfig
from hub.city import CityConfig
from hub.incidents.config import IncidentsConfig
from hub.notify.base import CHANNELS
from hub.notify.config import NotifyConfig
from hub.presence.config import PresenceConfig
from hub.storage.config import StorageConfig
from streetwatch.broker import BrokerConfig
from streetwatch.config import ComponentSettings, FieldPath, Section, secret_paths
from streetwatch.ids import Slug
from streetwatch.topics import Scope, TopicError, TopicTree


class HubIdentity(Section):
    id: Slug = Field("hub", description="This hub's id: its MQTT client id and metric label.")
    state_dir: Path = Field(
        Path("/var/lib/streetwatch-hub"),
        description="Where the hub keeps its own files (sequence state, spool, dead letters, "
        "registry, the SQLite store); relative to the config file.",
    )


class HubMqttConfig(BrokerConfig):
    topic_prefix: str = Field("", description="Namespace before sw/v1 (empty in production).")
    session_expiry_s: int = Field(
        7 * 86400,
        ge=60,
        le=2**32 - 1,
        description="How long the broker keeps the hub's session (and queues for it) while the "
        "hub is away. Match the broker's max_queued_messages to it.",
    )
    receive_maximum: int = Field(
        2000,
        ge=10,
        le=65535,
        description="Messages the broker may have in flight to the hub before it must wait for "
        "acknowledgements; the rest waits in the broker's queue.",
    )
    protocol: Literal["5", "3.1.1"] = Field(
        "5",
        description="MQTT version to speak: 5 (the default: session expiry and receive maximum "
        "apply) or 3.1.1 for brokers without MQTT 5 (a persistent session that never expires; "
        "receive_maximum and session_expiry_s are then up to the broker).",
    )
    shards: list[str] = Field(
        default_factory=lambda: ["*"],
        min_length=1,
        description="What this hub owns: '*' (everything), 'district' or 'district/street'. "
        "Several hubs split a city by owning different ones.",
    )

    @field_validator("protocol", mode="before")
    @classmethod
    def _protocol_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int | float) else value  # `protocol: 5` in YAML

    @field_validator("topic_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        try:
            TopicTree(value)
        except TopicError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("shards")
    @classmethod
    def _shards(cls, value: list[str]) -> list[str]:
        for text in value:
            try:
                Scope.parse(text)
            except TopicError as exc:
                raise ValueError(str(exc)) from None
        return value

    def scopes(self) -> list[Scope]:
        return [Scope.parse(s) for s in self.shards]


class IngestConfig(Section):
    reorder_timeout_s: float = Field(
        10, gt=0, le=3600, description="A gap not filled by then is asked for again (Resend)."
    )
    resend_max_interval_s: float = Field(
        300, gt=0, le=86400, description="Longest wait between two resend requests for a gap."
    )
    confirm_interval_s: float = Field(
        1.0, gt=0, le=60, description="Stored sequence ranges are confirmed this often."
    )
    boots_per_gateway: int = Field(
        8, ge=1, le=1000, description="Boots per gateway whose sequence state is kept."
    )
    dead_letters: int = Field(
        10_000, ge=10, le=10_000_000, description="Bad messages kept for inspection."
    )
    dead_letter_payload_bytes: int = Field(
        65_536, ge=256, le=1_048_576, description="Bytes of each bad payload kept."
    )
    rebirth_interval_s: float = Field(
        60,
        gt=0,
        le=86400,
        description="An unknown gateway is asked for its birth at most this often.",
    )


class MetricsConfig(Section):
    prometheus_port: int | None = Field(
        None, ge=1, le=65535, description="Serve Prometheus metrics on prometheus_host:PORT."
    )
    prometheus_host: str = Field("127.0.0.1", description="Address to serve metrics on.")
    status_interval_s: float = Field(
        60,
        ge=1,
        le=3600,
        description="How often every street's current picture (street_status: worst open "
        "incident, gateways online, outage) is written to the time series, besides each change. "
        "Keep it shorter than the shortest time range a dashboard shows.",
    )


class HubConfig(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="STREETWATCH_HUB_")

    hub: HubIdentity = Field(default_factory=HubIdentity)
    mqtt: HubMqttConfig = Field(default_factory=HubMqttConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    presence: PresenceConfig = Field(default_factory=PresenceConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    incidents: IncidentsConfig = Field(default_factory=IncidentsConfig)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    city: CityConfig = Field(description="Districts, streets and communities this hub serves.")

    @classmethod
    def file_secret_paths(cls, data: dict[str, Any]) -> Iterator[FieldPath]:
        """Also the secrets of each notification channel (typed by its ``type`` key)."""
        yield from secret_paths(cls)
        notify = data.get("notify")
        channels = notify.get("channels") if isinstance(notify, dict) else None
        for name, settings in (channels or {}).items():
            kind = CHANNELS.get(settings.get("type", "")) if isinstance(settings, dict) else None
            if kind is not None:
                yield from secret_paths(kind.config, ("notify", "channels", name))

    def semantic_problems(self) -> list[tuple[FieldPath, str]]:
        problems: list[tuple[FieldPath, str]] = [
            (("city", *path), message) for path, message in self.city.problems()
        ]
        problems += self.notify.problems(self.city, ("notify",))
        for i, scope in enumerate(self.mqtt.scopes()):
            if scope.district is None:
                continue
            if not any(d.id == scope.district for d in self.city.districts):
                problems.append(
                    (("mqtt", "shards", i), f"district {scope.district!r} is not in the city")
                )
            elif scope.street is not None and not self.city.has_street(
                scope.district, scope.street
            ):
                problems.append(
                    (("mqtt", "shards", i), f"street {scope.street!r} is not in the city")
                )
        return problems

    def state_path(self, base_dir: Path, path: Path) -> Path:
        """``path`` resolved against the state dir (itself resolved against ``base_dir``)."""
        state = (
            self.hub.state_dir
            if self.hub.state_dir.is_absolute()
            else base_dir / self.hub.state_dir
        )
        return path if path.is_absolute() else state / path

    def client_id(self) -> str:
        return f"sw-hub-{self.hub.id}"


def describe(config: HubConfig) -> list[str]:
    """What ``hub check-config`` prints about a valid file."""
    m, s = config.mqtt, config.storage
    lines: list[str] = [
        f"hub {config.hub.id}: mqtt://{m.host}:{m.port}" + (" (TLS)" if m.tls else ""),
        f"owns {', '.join(m.shards)}; session kept {m.session_expiry_s} s by the broker",
        f"storage: {s.backend}" + _where(config),
    ]
    lines.append(
        f"{len(config.notify.responders)} responders, {len(config.notify.channels)} channels; "
        f"API on {config.api.host}:{config.api.port}"
    )
    for path, message in config.notify.gaps(config.city, ("notify",)):
        lines.append("warning: " + ".".join(map(str, path)) + ": " + message)
    for district in config.city.districts:
        for street in district.streets:
            lines.append(
                f"  {district.id}/{street.id} {street.zh} ({street.en}): "
                f"{len(street.communities)} communities"
            )
    return lines


def _where(config: HubConfig) -> str:
    s = config.storage
    if s.backend == "influxdb_v1":
        return f" at {s.influxdb_v1.url} database {s.influxdb_v1.database}"
    if s.backend == "influxdb_v2":
        return f" at {s.influxdb_v2.url} bucket {s.influxdb_v2.bucket}"
    return f" at {s.sqlite.path} in the state dir"
