"""Tasmota: ``tele/<topic>/SENSOR`` every TelePeriod: ``Time``, then each driver's section.

The field maps give the sections (``ENERGY.Voltage`` nests under ``ENERGY``); flags go out as
``"ON"``/``"OFF"``, as Tasmota's switches do. ``Time`` is the device's local time to the second,
with its zone only when SetOption52 is on (``tasmota_zone``); without it the edge reads Beijing
time as UTC, 8 h ahead, exactly as with a real device.
"""

from __future__ import annotations

import orjson

from simulators.devices.encoding import Raw, local_time, nest
from simulators.devices.personality import DeviceSpec, Publish, Sample, encoder, fields
from streetwatch.kinds import Ecosystem


def _switch(value: Raw) -> Raw | str:
    if isinstance(value, bool):
        return "ON" if value else "OFF"
    return value


@encoder(Ecosystem.TASMOTA)
def tasmota(sample: Sample, device: DeviceSpec, fcnt: int) -> list[Publish]:
    when = local_time(sample.device_ms, device.utc_offset_s, zone=device.tasmota_zone)
    data: list[tuple[str, Raw | str]] = [("Time", when)]
    data += [(path, _switch(value)) for path, value in fields(sample, device)]
    return [Publish(device.topic(), orjson.dumps(nest(data)))]
