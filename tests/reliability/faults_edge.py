"""Harness of the edge-side fault cases: one gateway under a steady load, a real hub, real pages.

    async with Stand(tmp_path, mosquitto, topic_prefix) as stand:
        await stand.start_edge()          # `streetwatch edge run`; the devices start publishing
        await stand.steady()              # summaries flow to the hub
        stand.flood(to_cm=36)             # the physics does the rest: orange, a page
        await stand.acknowledge(await stand.paged("flood", "orange"))
        await stand.cut_uplink()          # ... the fault ...
        await stand.restore_uplink()
        await stand.finish()              # devices stop; the outbox drains into the hub
        await stand.account()             # the books: one call, a table of counts on failure

Real: Mosquitto (the session broker is both the gateway's local broker and the hub's; the
gateway's uplink goes through an ``UplinkRelay`` so that cutting it cuts nothing else), the edge
agent (a ``streetwatch edge run`` process; ``EdgeAgent`` in this process where a case needs an
injection point: its clock, or a ledger of its outbox), its SQLite outbox, the hub with its
SQLite store, incidents, escalation and responder API, and the responders' webhook
(``HttpReceiver``). The devices are the simulators' physics (``Waterlogging``, ``SmokeRoom``) and
encoders (plain JSON with ``ts``, Zigbee2MQTT with ``last_seen``), three samples a second each;
their physics runs 60 times faster than their clocks, so a street floods in seconds.

Acknowledged reading: a device message that the gateway turned into a reading and stored in its
outbox, inside a telemetry record. Every reading is counted by the window summary of its sensor
(a streamed sample is sent on its own as well), so a reading is acknowledged once the summary
that counts it is in the outbox; until then (at most one window and the tick that closes it) it
is only in the agent's memory. The hub stores a reading exactly once when exactly one stored
summary of its sensor covers its time and counts it. A reading's time decides its window, so the
devices publish in the first 450 ms of each second only: a reading still lands in its own window
when the gateway takes up to half a second to process it.

What the gateway numbered comes from its own books: its counters, the ``LedgerOutbox`` (every
record offered to its outbox and the outcome) in process, and for a killed process the outbox
file as the kill left it.

Where it is: the devices and the ledger of what they published in ``faults_edge_devices``; the
gateway's config, clock, outbox ledger and the two ways to run it in ``faults_edge_gateway``;
the stand in ``faults_edge_stand``, its hub and responders in ``faults_edge_hub_side``; the
books in ``faults_edge_books``, the readings' half of them in ``faults_edge_readings`` and which
window counts a reading in ``faults_edge_windows``. This module names what the tests use.
"""

from __future__ import annotations

from .faults_edge_books import Books
from .faults_edge_gateway import WINDOW_S, EdgeProcess, LedgerOutbox, OffsetClock
from .faults_edge_stand import Stand

__all__ = ["WINDOW_S", "Books", "EdgeProcess", "LedgerOutbox", "OffsetClock", "Stand"]
