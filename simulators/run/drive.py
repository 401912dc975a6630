"""Drive a deployed StreetWatch: a scenario's devices publishing into a real broker, from now on.

``sim run`` owns everything it plays against. A deployed stack (docker-compose.yml) does not let
it: the gateways, the hub and the brokers are other people's processes. Here the simulator is
only the devices. Each round compiles the scenario with its start set to the current wall-clock
time, so every device timestamp is "now", then publishes each device message on the broker the
gateways read, at its time, ``speed`` times faster than real time. Controls it cannot perform on
processes it does not own (an uplink cut, a power cut, a broker restart, an installer's test
alarm) are skipped and said once each. With ``loop`` the scenario starts again, from the new
now, when it ends.

Every round plays the city of ``seed``: the city the deployed gateway configs were generated
for (``deploy/simulator/generate.py``). Round ``n`` draws the sensors' noise and faults from
``seed + n - 1``, so a looping stack does not replay the same day.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import random
from dataclasses import dataclass
from datetime import datetime

import aiomqtt

from simulators.scenarios import Scenario
from simulators.tape.compile import DeviceCue, Tape, compile_tape
from simulators.tape.plan import Control
from streetwatch.backoff import Backoff
from streetwatch.broker import BrokerConfig, tls_context
from streetwatch.clock import Clock, SystemClock
from streetwatch.component import Component

log = logging.getLogger(__name__)

SKIPPED = {
    "uplink_cut": "the scenario cuts gateway {target}'s network to the hub; the simulator "
    "cannot do that to a real gateway, so it stays connected (to see it happen, disconnect "
    "the gateway's network yourself)",
    "power_off": "the scenario cuts gateway {target}'s power; the simulator cannot switch off "
    "a real gateway, so only its devices fall silent meanwhile (to see it happen, stop the "
    "gateway yourself)",
    "broker_down": "the scenario restarts the {target} broker; the simulator cannot restart a "
    "real broker, so it stays up",
    "test_alarm": "the scenario presses test-alarm on gateway {target}; the simulator cannot "
    "reach a real gateway (run `streetwatch edge test-alarm` on the gateway yourself)",
}
"""What the installer reads when a control is skipped, by the control that starts it."""

ENDS = frozenset({"uplink_restore", "power_on", "broker_up"})
"""Controls that end a skipped one: nothing more to say."""


def starting_at(scenario: Scenario, start_s: float) -> Scenario:
    """``scenario`` starting at the whole second of ``start_s`` (Unix s), in its own zone."""
    start = datetime.fromtimestamp(math.floor(start_s), tz=scenario.start.tzinfo)
    return scenario.model_copy(update={"start": start})


def compile_round(scenario: Scenario, start_s: float, seed: int, number: int = 1) -> Tape:
    """Round ``number``'s tape: the city of ``seed``, its own noise, timestamps from ``start_s``."""
    return compile_tape(starting_at(scenario, start_s), seed + number - 1, city_seed=seed)


class SkippedControls:
    """Says once per control and gateway (or broker) that the simulator skips it."""

    def __init__(self) -> None:
        self._said: set[tuple[str, str]] = set()

    def skip(self, control: Control) -> None:
        key = (control.action, control.target)
        if control.action in ENDS or key in self._said:
            return
        self._said.add(key)
        template = SKIPPED.get(control.action, "the simulator cannot perform {action} on {target}")
        log.warning("skipped: %s", template.format(action=control.action, target=control.target))


@dataclass
class RoundReport:
    """What one round of the scenario did; times are Unix milliseconds (the devices' times)."""

    number: int
    seed: int
    start_ms: int
    end_ms: int
    cues: int = 0  # device messages in the tape
    published: int = 0
    lost: int = 0  # published while the broker could not be reached
    lag_s: float = 0.0  # the latest a message went out, in simulated seconds


class DevicePublisher(Component):
    """The devices' connection to their broker, reconnected with backoff when it drops.

    ``connected`` is set while it is up. ``publish`` does not wait for a lost connection: a
    device whose broker is gone loses its message, as a real one does.
    """

    def __init__(self, broker: BrokerConfig, *, clock: Clock, rng: random.Random | None = None):
        self.broker = broker
        self.clock = clock
        self.connected = asyncio.Event()
        self._backoff = Backoff(1.0, 30.0, rng)
        self._client: aiomqtt.Client | None = None

    async def start(self) -> None:
        self.spawn(self._connection(), "connection")

    async def publish(self, cue: DeviceCue) -> bool:
        """Publish one device message (QoS 1); False when the broker cannot be reached."""
        client = self._client
        if client is None:
            return False
        try:
            await client.publish(cue.topic, cue.payload, qos=1, retain=cue.retain)
        except aiomqtt.MqttError:
            return False
        return True

    async def _connection(self) -> None:
        where = f"{self.broker.host}:{self.broker.port}"
        while True:
            client = aiomqtt.Client(
                self.broker.host,
                self.broker.port,
                username=self.broker.username,
                password=self.broker.password.get_secret_value() if self.broker.password else None,
                keepalive=self.broker.keepalive_s,
                tls_context=tls_context(self.broker),
                timeout=10.0,
            )
            problem = "the connection ended"
            try:
                async with client:
                    self._client = client
                    self.connected.set()
                    self._backoff.reset()
                    log.info("devices connected to the broker at %s", where)
                    async for _ in client.messages:  # subscribes to nothing: ends when it drops
                        pass
            except aiomqtt.MqttError as exc:
                problem = str(exc)
            finally:
                self._client = None
                self.connected.clear()
            delay = self._backoff.next_delay()
            log.warning(
                "the devices' broker at %s cannot be reached (%s); trying again in %.0f s",
                where,
                problem,
                delay,
            )
            await self.clock.sleep(delay)


class ScenarioDrive(Component):
    """``async with ScenarioDrive(scenario, broker, seed=1) as drive: await drive.finished()``.

    Waits for the broker, then plays rounds of ``scenario`` (one, or until stopped with
    ``loop``); each finished round is appended to ``reports``.
    """

    def __init__(
        self,
        scenario: Scenario,
        broker: BrokerConfig,
        *,
        seed: int = 1,
        speed: float = 1.0,
        loop: bool = False,
        clock: Clock | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.scenario, self.broker, self.seed = scenario, broker, seed
        self.speed, self.loop = speed, loop
        self.clock = clock or SystemClock()
        self.reports: list[RoundReport] = []
        self._skipped = SkippedControls()
        self._finished = asyncio.Event()
        # Set by stop(). Cancelling the rounds is not enough on its own: Python 3.11's
        # asyncio.wait_for (under aiomqtt's publish) can swallow a cancellation that arrives as
        # the publish completes, and a looping drive then never ends (seen in CI).
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        self.devices = await self.enter(DevicePublisher(self.broker, clock=self.clock))
        self.spawn(self._rounds(), "rounds")

    async def stop(self) -> None:
        self._stopping.set()

    async def finished(self) -> list[RoundReport]:
        """Wait for the last round (never, with ``loop``); the reports of every round."""
        await self._finished.wait()
        return self.reports

    async def _rounds(self) -> None:
        await self.devices.connected.wait()
        for number in itertools.count(1):
            began = self.clock.monotonic()
            tape = await asyncio.to_thread(
                compile_round, self.scenario, self.clock.now(), self.seed, number
            )
            report = await self._play(tape, number, began)
            self.reports.append(report)
            log.info(
                "round %d done: %d of %d device messages published, %d lost while the broker "
                "was unreachable, at most %.1f simulated s late",
                number,
                report.published,
                report.cues,
                report.lost,
                report.lag_s,
            )
            if not self.loop or self._stopping.is_set():
                break
        self._finished.set()

    async def _play(self, tape: Tape, number: int, began: float) -> RoundReport:
        cues = sum(1 for _ in tape.device_cues())
        report = RoundReport(number, tape.seed, tape.start_ms, tape.end_ms, cues)
        minutes = (tape.end_ms - tape.start_ms) / 60_000
        log.info(
            "round %d: %s (%g simulated min at %g×, seed %d) from now",
            number,
            tape.scenario.name,
            minutes,
            self.speed,
            tape.seed,
        )
        for cue in tape.cues:
            if self._stopping.is_set():
                return report
            late = await self._until(tape, cue.t_ms, began)
            if isinstance(cue, Control):
                self._skipped.skip(cue)
                continue
            report.lag_s = max(report.lag_s, late)
            if await self.devices.publish(cue):
                report.published += 1
            else:
                report.lost += 1
        await self._until(tape, tape.end_ms, began)
        return report

    async def _until(self, tape: Tape, t_ms: int, began: float) -> float:
        """Sleep until the simulated ``t_ms``; how many simulated seconds late it already was."""
        due = began + (t_ms - tape.start_ms) / 1000 / self.speed
        wait = due - self.clock.monotonic()
        if wait > 0:
            await self.clock.sleep(wait)
            return 0.0
        return -wait * self.speed
