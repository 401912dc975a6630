"""ChirpStack v4: an uplink on ``application/<app_id>/device/<dev_eui>/event/up``.

The device sends a small binary frame (``frame``: one byte of flag bits, then each number as a
big-endian int32 in thousandths, in field order); the device profile's codec (``unframe``, what a
deployment would install in ChirpStack) decodes it into ``object``. The network server adds
``deviceInfo``, the frame counter ``fCnt``, the receive ``time`` and ``rxInfo`` with the RSSI
(when the sample has one). A battery the codec does not decode goes out as ``event/status``
``batteryLevel``, as ChirpStack reports it after a DevStatusReq.
"""

from __future__ import annotations

import struct
import uuid
from base64 import b64encode
from collections.abc import Sequence
from typing import Any, Final

import orjson

from simulators.devices.encoding import Raw, local_time, nest, published
from simulators.devices.personality import DeviceSpec, Publish, Sample, encoder, fields
from streetwatch.kinds import Ecosystem, FieldMap
from streetwatch.topics import Subject

SCALE: Final = 1000  # numbers travel as int32 thousandths
_NAMESPACE: Final = uuid.UUID("5d1b7c2e-9a43-4f6e-8c1d-3b2a1f0e9d8c")  # ids are stable per run
TENANT_ID: Final = str(uuid.uuid5(_NAMESPACE, "tenant"))
GATEWAY_ID: Final = "0016c001ff10a235"


def frame(values: Sequence[Raw]) -> bytes:
    """The uplink's application payload: flag bits, then the numbers."""
    flags = [v for v in values if isinstance(v, bool)]
    numbers = [round(v * SCALE) for v in values if not isinstance(v, bool)]
    if len(flags) > 8:
        raise ValueError(f"a frame holds at most 8 flags, not {len(flags)}")
    bits = sum(1 << i for i, flag in enumerate(flags) if flag)
    return struct.pack(f">B{len(numbers)}i", bits, *numbers)


def unframe(data: bytes, layout: Sequence[tuple[str, bool]]) -> dict[str, Raw]:
    """The codec: (path, is_flag) in frame order -> the decoded fields."""
    count = sum(1 for _, is_flag in layout if not is_flag)
    bits, *numbers = struct.unpack(f">B{count}i", data)
    out: dict[str, Raw] = {}
    flag_no, rest = 0, iter(numbers)
    for path, is_flag in layout:
        if is_flag:
            out[path] = bool(bits >> flag_no & 1)
            flag_no += 1
        else:
            out[path] = next(rest) / SCALE
    return out


def _device_info(sample: Sample, device: DeviceSpec) -> dict[str, Any]:
    app, _, eui = device.device.partition(":")
    return {
        "tenantId": TENANT_ID,
        "tenantName": "StreetWatch",
        "applicationId": app,
        "applicationName": "streetwatch-sim",
        "deviceProfileId": str(uuid.uuid5(_NAMESPACE, f"profile/{device.kind}")),
        "deviceProfileName": f"sim-{device.kind}",
        "deviceName": sample.sensor,
        "devEui": eui.lower(),
        "tags": {},
    }


@encoder(Ecosystem.CHIRPSTACK, extra=("rssi", "battery"))
def chirpstack(sample: Sample, device: DeviceSpec, fcnt: int) -> list[Publish]:
    kind, info = device.sensor_kind, _device_info(sample, device)
    when = local_time(sample.device_ms, 0, timespec="microseconds")
    items = fields(sample, device)
    data = frame([value for _, value in items])
    layout = [(path, isinstance(value, bool)) for path, value in items]
    up: dict[str, Any] = {
        "deduplicationId": str(uuid.uuid5(_NAMESPACE, f"{device.device}/{fcnt}/{sample.t_ms}")),
        "time": when,
        "deviceInfo": info,
        "devAddr": info["devEui"][-8:],
        "adr": True,
        "dr": 5,
        "fCnt": fcnt,
        "fPort": device.f_port,
        "confirmed": False,
        "data": b64encode(data).decode("ascii"),
        "object": nest(unframe(data, layout).items()),
    }
    metrics = sample.metrics()
    if "rssi" in metrics:
        rssi = published(metrics["rssi"], FieldMap("rssi", "rssi", None), kind.metric("rssi"))
        up["rxInfo"] = [{"gatewayId": GATEWAY_ID, "rssi": rssi, "snr": 7.5}]
    out = [Publish(device.topic(), orjson.dumps(up))]
    if "battery" in metrics and "battery" not in device.chosen():
        level = published(
            metrics["battery"], FieldMap("batteryLevel", "battery", "%"), kind.metric("battery")
        )
        status = {
            "deduplicationId": str(uuid.uuid5(_NAMESPACE, f"{device.device}/status/{sample.t_ms}")),
            "time": when,
            "deviceInfo": info,
            "margin": 10,
            "externalPowerSource": False,
            "batteryLevelUnavailable": False,
            "batteryLevel": level,
        }
        out.append(Publish(device.topic(Subject.STATUS), orjson.dumps(status)))
    return out
