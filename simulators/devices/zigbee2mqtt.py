"""Zigbee2MQTT: the bridge publishes a device's whole state on ``zigbee2mqtt/<friendly_name>``.

Zigbee2MQTT keeps each device's last state and publishes all of it on every change, so the
flags a device exposes (``battery_low``, ``tamper``, ``test``...) are there, ``false``, until
set. ``last_seen`` is there when ``advanced.last_seen: ISO_8601_local`` is on (``timestamps``).
"""

from __future__ import annotations

import orjson

from simulators.devices.encoding import Raw, local_time, nest
from simulators.devices.personality import DeviceSpec, Publish, Sample, encoder, fields
from streetwatch.kinds import Ecosystem


@encoder(Ecosystem.ZIGBEE2MQTT)
def zigbee2mqtt(sample: Sample, device: DeviceSpec, fcnt: int) -> list[Publish]:
    kind = device.sensor_kind
    state: dict[str, Raw] = {
        fm.path: False for name, fm in device.chosen().items() if kind.metric(name).is_flag
    }
    state.update(fields(sample, device))
    data: list[tuple[str, Raw | str]] = list(state.items())
    if device.timestamps:
        seen = local_time(sample.device_ms, device.utc_offset_s, timespec="milliseconds")
        data.append(("last_seen", seen))
    return [Publish(device.topic(), orjson.dumps(nest(data)))]
