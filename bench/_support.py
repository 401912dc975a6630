"""tests/support for the benchmarks: the test suite's servers, receiver and virtual gateways.

The benchmarks start the same real servers as the integration tests (tests/support/services.py)
and speak the same protocols, so they import them from there rather than keep copies. This
module puts ``tests/`` on ``sys.path`` (bench/ is not a package) and names what they use.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.fleet import Fleet, VirtualGateway
from support.http_receiver import HttpReceiver, Recorded, Reply
from support.services import ManagedProcess, MosquittoService, free_port, unix_socket_answers
from support.waiting import eventually

__all__ = [
    "Fleet",
    "HttpReceiver",
    "ManagedProcess",
    "MosquittoService",
    "Recorded",
    "Reply",
    "VirtualGateway",
    "eventually",
    "free_port",
    "unix_socket_answers",
]
