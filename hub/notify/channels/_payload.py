"""The JSON a machine receives when a person is paged: the webhook body and the MQTT payload.

One schema for both (``v`` is its version): what happened where (``incident``), who is paged
(``recipient``), what they read (``message``, with the acknowledgement link), which page this is.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.incidents.model import IncidentScope, IncidentState
from hub.notify.base import Notification
from hub.notify.render import strongest_signal
from streetwatch.anomalies import Hazard
from streetwatch.ids import Slug
from streetwatch.levels import Level

_SIGNAL_FIELDS = {"metric", "value", "threshold", "sensor", "floor"}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class IncidentSummary(_Frozen):
    id: str
    hazard: Hazard
    level: Level
    state: IncidentState
    scope: IncidentScope
    district: Slug
    street: Slug | None = None
    community: Slug | None = None
    building: Slug | None = None
    opened_at: int = Field(description="Unix ms.")
    updated_at: int = Field(description="Unix ms.")
    metric: str | None = Field(None, description="Of the strongest active signal.")
    value: float | bool | None = None
    threshold: float | None = None
    sensor: Slug | None = None
    floor: int | None = None


_INCIDENT_FIELDS = set(IncidentSummary.model_fields) - _SIGNAL_FIELDS


class PagedPerson(_Frozen):
    id: str
    name: str
    role: str


class MessageBody(_Frozen):
    title: str
    text: str
    markdown: str
    ack_url: str
    map_url: str | None = None


class PagePayload(_Frozen):
    v: Literal[1] = 1
    incident: IncidentSummary
    recipient: PagedPerson
    message: MessageBody
    ack_url: str = Field(description="The one-tap acknowledgement link (also in message).")
    attempt: int = Field(ge=1, description="1 for the first page of this person.")
    tier: int = Field(ge=0, description="0 = first tier (社区), 1 = next (街道), ...")
    sent_at: int = Field(description="Unix ms when this page was sent.")

    @classmethod
    def of(cls, notification: Notification, sent_at_ms: int) -> PagePayload:
        incident, person, message = (
            notification.incident,
            notification.recipient,
            notification.message,
        )
        signal = strongest_signal(incident)
        return cls(
            incident=IncidentSummary(
                **incident.model_dump(include=_INCIDENT_FIELDS),
                **(signal.model_dump(include=_SIGNAL_FIELDS) if signal is not None else {}),
            ),
            recipient=PagedPerson(id=person.id, name=person.name, role=person.role),
            message=MessageBody(
                title=message.title,
                text=message.text,
                markdown=message.markdown,
                ack_url=message.ack_url,
                map_url=message.map_url,
            ),
            ack_url=message.ack_url,
            attempt=notification.attempt,
            tier=notification.tier,
            sent_at=sent_at_ms,
        )

    def body(self) -> bytes:
        """Compact UTF-8 JSON (Chinese as is, not escaped)."""
        return self.model_dump_json().encode()
