"""What the hub itself notices: presence changes and refusals (the incidents issue builds on these).

A ``HubEvent`` is frozen and self-describing, like the wire messages: it is stored in the
``hub_event`` measurement and handed to every subscriber of the hub's event stream.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from streetwatch.ids import Slug
from streetwatch.levels import Level


class HubEventType(StrEnum):
    GATEWAY_ONLINE = "gateway_online"  # a birth, or traffic again after offline
    GATEWAY_OFFLINE = "gateway_offline"  # its death message (MQTT will) or silence
    SENSOR_OVERDUE = "sensor_overdue"  # no report for longer than its offline_after_s
    SENSOR_BACK = "sensor_back"  # an overdue sensor reported again
    AREA_OUTAGE = "area_outage"  # most gateways of a community or street silent together
    AREA_RESTORED = "area_restored"  # enough of them back
    GATEWAY_REFUSED = "gateway_refused"  # a birth that claims another place, or an unknown one


class OfflineCause(StrEnum):
    DEATH = "death"  # the gateway's will: the broker saw its connection die
    SILENCE = "silence"  # nothing heard for longer than expected


class HubEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(description="Unique and stable: the same change never gets two ids.")
    type: HubEventType
    t: int = Field(ge=0, description="Unix ms when the hub decided (its clock).")
    level: Level = Level.BLUE
    district: Slug
    street: Slug
    community: Slug | None = None
    gateway: Slug | None = None
    sensor: Slug | None = None
    gateways: tuple[Slug, ...] = Field(
        default=(), description="For area events: the gateways concerned."
    )
    cause: OfflineCause | None = None
    since: int | None = Field(default=None, description="Unix ms of the last sign of life.")
    detail: str = ""
