"""Jittered exponential backoff for reconnect loops (the "full jitter" scheme).

Each delay is drawn uniformly from [0, min(max, base · 2^attempt)], so a street of gateways
that lost the hub together does not reconnect in lockstep when it returns. The random source
is injected, so a simulation replays the same delays from its seed.
"""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, base_s: float, max_s: float, rng: random.Random | None = None) -> None:
        if not 0 < base_s <= max_s:
            raise ValueError("backoff needs 0 < base_s <= max_s")
        self.base_s = base_s
        self.max_s = max_s
        self.attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        """The delay before the next attempt; each call counts one more failure."""
        ceiling = min(self.max_s, self.base_s * (2 ** min(self.attempt, 30)))
        self.attempt += 1
        return self._rng.uniform(self.base_s / 2, ceiling) if ceiling > self.base_s else ceiling

    def reset(self) -> None:
        """Call after a success: the next failure starts from the base delay again."""
        self.attempt = 0
