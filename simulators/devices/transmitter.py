"""A device over time: what a real one keeps between reports.

It announces itself (retained availability, Tasmota LWT) before its first report and after
coming back, and counts LoRaWAN frames: ``fCnt`` goes up by one per uplink, so an uplink lost
on the way (a ``Dropout`` on messages) leaves a gap, as on a real network.
"""

from __future__ import annotations

from simulators.devices.personality import DeviceSpec, Message, Sample, availability, payloads


class Transmitter:
    """One device's radio: announces itself before its first report, counts LoRaWAN frames."""

    def __init__(self, device: DeviceSpec, *, fcnt: int = 0) -> None:
        self.device = device
        self.fcnt = fcnt
        self._announced = False

    def send(self, sample: Sample) -> list[Message]:
        out = [] if self._announced else availability(self.device, True)
        self._announced = True
        out += payloads(sample, self.device, fcnt=self.fcnt)
        self.fcnt += 1
        return [Message(sample.sensor, sample.t_ms, p) for p in out]

    def leave(self, sensor: str, t_ms: int) -> list[Message]:
        """Going offline (the broker publishes the will; Z2M marks the device offline)."""
        self._announced = False
        return [Message(sensor, t_ms, p) for p in availability(self.device, False)]
