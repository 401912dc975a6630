"""StreetWatch's shared language: levels, places, the sensor-kind table, topics and messages.

``edge``, ``hub``, ``simulators`` and ``dashboards`` depend on this package and never on each
other. Nothing here does I/O at import time.
"""

__version__ = "0.1.0"
