"""Stage 3 of the edge pipeline: detectors, one small module each, composed per sensor.

Importing the package registers the detectors, in the order the monitor runs them: threshold
before rate (the rate detector reads the threshold level of the same sample), then stuck and
flags. Offline and validation faults are owned by the monitor itself; spikes are a filter in
front of the registered detectors, not a detector.
"""

# Registration order is run order; a test pins it.
# isort: off
from edge.detectors import threshold  # noqa: F401
from edge.detectors import rate  # noqa: F401
from edge.detectors import stuck  # noqa: F401
from edge.detectors import flags  # noqa: F401

# isort: on
from edge.detectors.base import DETECTORS, Detector, Finding, register
from edge.detectors.monitor import MonitorResult, SensorMonitor
from edge.detectors.spike import Spike

__all__ = [
    "DETECTORS",
    "Detector",
    "Finding",
    "MonitorResult",
    "SensorMonitor",
    "Spike",
    "register",
]
