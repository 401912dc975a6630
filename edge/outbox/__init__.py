"""The gateway's outbox: store-and-forward with priority lanes and a telemetry quota.

``SqliteOutbox`` survives crashes and power loss; ``MemoryOutbox`` has the same semantics and
survives nothing. Both follow :class:`Outbox`; the policy is described in ``base`` and in this
folder's README.
"""

from edge.outbox.base import (
    AddOutcome,
    DropReason,
    EvictedRange,
    Lane,
    NewRecord,
    Outbox,
    OutboxError,
    OutboxRecord,
    OutboxStats,
    Pressure,
)
from edge.outbox.memory import MemoryOutbox
from edge.outbox.sqlite import SqliteOutbox

__all__ = [
    "AddOutcome",
    "DropReason",
    "EvictedRange",
    "Lane",
    "MemoryOutbox",
    "NewRecord",
    "Outbox",
    "OutboxError",
    "OutboxRecord",
    "OutboxStats",
    "Pressure",
    "SqliteOutbox",
]
