"""This boot's identity and its sequence numbers, one counter per uplink channel.

A gateway picks a random boot id at every start; sequence numbers count from 0 within a
(boot, channel). The hub detects duplicates and gaps per (gateway, boot, channel) and confirms
stored ranges back, so no sequence state needs to survive a restart.
"""

from __future__ import annotations

import secrets

from streetwatch.topics import Channel

SEQUENCED = (Channel.DATA, Channel.EVENT, Channel.HEALTH)


class Sequencer:
    def __init__(self, boot: str | None = None) -> None:
        self.boot = boot or secrets.token_hex(8)
        self._next = dict.fromkeys(SEQUENCED, 0)

    def peek(self, channel: Channel) -> int:
        """The number the next record on ``channel`` will get."""
        return self._next[channel]

    def next(self, channel: Channel) -> int:
        seq = self._next[channel]
        self._next[channel] = seq + 1
        return seq

    def event_id(self, gateway: str, seq: int) -> str:
        """A unique, resend-stable id for the event with this seq."""
        return f"{gateway}.{self.boot}.{seq}"
