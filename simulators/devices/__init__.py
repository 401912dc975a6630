"""Simulated devices: how each publishes on its gateway's local broker, and how it misbehaves.

``personality`` turns a ``Sample`` of canonical values into the publishes of one
``DeviceSpec`` (Zigbee2MQTT, ChirpStack v4, Tasmota, plain JSON: one module each, registered
in ``ENCODERS``); ``faults`` (values) and ``delivery`` (loss, repeats, order) transform streams
of samples or messages and log what they did.
"""

from simulators.devices import chirpstack, generic_json, tasmota, zigbee2mqtt
from simulators.devices.delivery import (
    DeliveryFault,
    Dropout,
    Duplicate,
    Reorder,
    deliver,
    inject,
)
from simulators.devices.device_faults import LowBattery, SelfTest, Tamper
from simulators.devices.faults import (
    Action,
    ClockSkew,
    Drift,
    Fault,
    FaultRecord,
    SampleFault,
    Spikes,
    Stuck,
)
from simulators.devices.personality import (
    ENCODERS,
    DeviceSpec,
    Message,
    Publish,
    Sample,
    availability,
    carried,
    payloads,
)
from simulators.devices.transmitter import Transmitter

__all__ = [
    "ENCODERS",
    "Action",
    "ClockSkew",
    "DeliveryFault",
    "DeviceSpec",
    "Drift",
    "Dropout",
    "Duplicate",
    "Fault",
    "FaultRecord",
    "LowBattery",
    "Message",
    "Publish",
    "Reorder",
    "Sample",
    "SampleFault",
    "SelfTest",
    "Spikes",
    "Stuck",
    "Tamper",
    "Transmitter",
    "availability",
    "carried",
    "chirpstack",
    "deliver",
    "generic_json",
    "inject",
    "payloads",
    "tasmota",
    "zigbee2mqtt",
]
