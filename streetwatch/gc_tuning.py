"""Garbage-collector settings for the long-running processes (hub and edge agent).

The hub allocates several objects per stored reading (the validated message, a dict of values,
a point, its line), nearly all freed at once by reference counting and never part of a cycle.
CPython's default collection threshold (700 allocations) then runs a generation-0 collection every
couple of messages and keeps promoting survivors, and each collection walks the long-lived heap
built at start (configs, registries, caches). Measured with ``bench/ingest/bench_ingest.py``: about
a third of the hub's CPU per reading went to the collector.

``tune()`` moves everything alive after start-up into the permanent generation (``gc.freeze``:
never scanned again) and raises the threshold, so collections are rarer; reference cycles are
still collected.
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 100)


def tune() -> None:
    """Call once the process has started (configs loaded, components up)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
