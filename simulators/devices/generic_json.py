"""Plain JSON publishers: one JSON object on an exact topic, ``ts`` in epoch milliseconds."""

from __future__ import annotations

import orjson

from simulators.devices.encoding import Raw, nest
from simulators.devices.personality import DeviceSpec, Publish, Sample, encoder, fields
from streetwatch.kinds import Ecosystem


@encoder(Ecosystem.JSON)
def generic_json(sample: Sample, device: DeviceSpec, fcnt: int) -> list[Publish]:
    data: list[tuple[str, Raw]] = fields(sample, device)
    if device.timestamps:
        data.append(("ts", sample.device_ms))
    return [Publish(device.topic(), orjson.dumps(nest(data)))]
