"""Flags the device sets itself (smoke, gas, water_leak, flow, cover_open, tamper...).

One detector per ``FlagRule`` of the kind, keyed ``flag:<flag>``: raised once the flag has been
set for ``persist_s`` (a hydrant's ``flow`` must last 10 s; checked on ``tick`` too, because
devices report flags on change and may say nothing more), cleared when it is unset. A reading
without the flag changes nothing.

Self-test is told apart from a real alarm. Real devices: a Zigbee2MQTT Heiman smoke detector
(HS1SA, HS3SA) sets ``test: true`` while its button is held *and* reports ``smoke: true``, then
both go false within seconds of release; gas detectors with a test button behave alike; some
devices send the test flag and the alarm in separate messages a few seconds apart. So for
kinds with a ``self_test`` metric, an alarm flag (``ALARM_FLAG`` rule) that is set within
``SELF_TEST_GRACE_S`` of the last reading that said ``self_test`` set, or of the reading that
said it unset again (the release), produces a SELF_TEST finding at level NONE, which pages
nobody. If the alarm flag is still set once that grace has passed, it is taken as real: a
RAISED ALARM_FLAG finding on the same key. Only a reading that says ``self_test`` renews the
grace: a reading without the field (a device or codec that leaves it out after the press)
renews nothing, so a press masks an alarm for at most ``SELF_TEST_GRACE_S`` after the device
last spoke of it, whatever it sends afterwards (ticks time the grace on the gateway's clock,
so a device clock that is off neither stretches it nor cuts it short). A button held longer
stays a self-test only if the device repeats ``self_test: true`` more often. The grace is short
on purpose: a real fire that starts right after a button press is delayed by at most those
seconds, never by a minute. A real alarm is never turned into a self-test by a later button
press. The ``self_test`` flag's own rule reports the press itself (SELF_TEST, level NONE) and
clears on the release, like any flag.
"""

from __future__ import annotations

from collections.abc import Mapping

from edge.config import SensorConfig
from edge.detectors.base import Finding, finding, register
from streetwatch.anomalies import AnomalyType
from streetwatch.kinds import FlagRule
from streetwatch.levels import Level
from streetwatch.messages import Reading

SELF_TEST_FLAG = "self_test"
SELF_TEST_GRACE_S = 10


class FlagDetector:
    def __init__(self, rule: FlagRule, *, knows_self_test: bool) -> None:
        self.rule = rule
        self.key = f"flag:{rule.flag}"
        self.active: AnomalyType | None = None
        self._watch_test = knows_self_test and rule.anomaly is AnomalyType.ALARM_FLAG
        self._set_since: int | None = None
        self._pressed = False  # the device's self_test flag as last reported
        # Alarms up to then are self-tests: on the device's clock for its readings, on the
        # gateway's for ticks (see ``_renew_test``).
        self._test_until: int | None = None
        self._tick_test_until: int | None = None
        self._last_tick: int | None = None

    def observe(self, reading: Reading) -> list[Finding]:
        t = reading.t
        test = reading.values.get(SELF_TEST_FLAG)
        if test is True or (test is False and self._pressed):  # a press, or its release
            self._pressed = test is True
            self._renew_test(t)
        flag = reading.values.get(self.rule.flag)
        if flag is True and self._set_since is None:
            self._set_since = t
        elif flag is False:
            self._set_since = None
            if self.active is not None:
                cleared, self.active = self.active, None
                return [self._finding(cleared, False, t)]
        return self._evaluate(t, self._test_until)

    def tick(self, now_ms: int) -> list[Finding]:
        self._last_tick = now_ms
        return self._evaluate(now_ms, self._tick_test_until)

    def _renew_test(self, t: int) -> None:
        """A reading at device time ``t`` said the button is pressed, or released.

        Ticks run on the gateway's clock, so their grace starts at the last tick before this
        reading (ticks come every second) rather than at ``t``: a device clock behind the
        gateway would otherwise end every self-test at the next tick (a test press would page)
        and one ahead would make a tick keep an alarm masked for as long as it is ahead.
        """
        grace = SELF_TEST_GRACE_S * 1000
        self._test_until = t + grace
        self._tick_test_until = (t if self._last_tick is None else self._last_tick) + grace

    def _evaluate(self, now: int, test_until: int | None) -> list[Finding]:
        since = self._set_since
        if since is None:
            return []
        # Persistence counts until the first finding only: a tick's ``now`` (gateway clock) must
        # not hold back turning a masked alarm real because the device's clock is ahead.
        if self.active is None and now - since < self.rule.persist_s * 1000:
            return []
        testing = self._watch_test and test_until is not None and now <= test_until
        wanted = AnomalyType.SELF_TEST if testing else self.rule.anomaly
        if self.active is wanted or self.active is self.rule.anomaly:
            return []
        self.active = wanted
        return [self._finding(wanted, True, now)]

    def _finding(self, type_: AnomalyType, raised: bool, t: int) -> Finding:
        level = Level.NONE if type_ is AnomalyType.SELF_TEST else self.rule.level
        flag = self.rule.flag
        if type_ is AnomalyType.SELF_TEST and flag != SELF_TEST_FLAG:
            detail = f"{flag} set during a self-test (test button)"
        elif raised:
            detail = f"{flag} set" + (
                f" for {self.rule.persist_s:g} s" if self.rule.persist_s else ""
            )
        else:
            detail = f"{flag} no longer set"
        return finding(self.key, type_, level, raised, t, metric=flag, value=raised, detail=detail)


@register("flags")
def flags(sensor: SensorConfig, active: Mapping[str, Finding]) -> list[FlagDetector]:
    kind = sensor.sensor_kind
    knows_self_test = kind.has_metric(SELF_TEST_FLAG)
    return [FlagDetector(rule, knows_self_test=knows_self_test) for rule in kind.flags]
