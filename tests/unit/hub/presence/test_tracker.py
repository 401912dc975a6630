"""Gateway and sensor presence: one event per change, at the right time, never repeated."""

from __future__ import annotations

from hub.events import HubEventType, OfflineCause
from hub.presence.config import PresenceConfig
from hub.presence.tracker import OfflineGateway, OverdueSensor, PresenceTracker
from hub.registry import Registered
from streetwatch.levels import Level
from unit.hub.presence.world import S, World, birth, sensor

OFFLINE = HubEventType.GATEWAY_OFFLINE
ONLINE = HubEventType.GATEWAY_ONLINE


def test_death_gives_one_offline_event_after_the_hold() -> None:
    w = World()
    w.add("gw-a", "lianyang")
    w.run(10, heard=("gw-a",))
    w.kill("gw-a")  # at 10 s
    w.run(25)  # 35 s: still held back, an area outage might explain it
    assert w.take() == []
    w.run(5)  # 40 s = death + hold_s
    (event,) = w.take()
    assert event.type is OFFLINE
    assert event.cause is OfflineCause.DEATH
    assert (event.t, event.since) == (40 * S, 10 * S)
    assert event.level is Level.BLUE
    assert (event.district, event.street, event.community) == ("pudong", "huamu", "lianyang")
    assert event.id == "gateway_offline:gw-a:10000"
    w.run(600)
    assert w.take() == []


def test_silence_gives_one_offline_event() -> None:
    w = World()
    w.add("gw-a", "lianyang")  # heard at 0, health every 10 s: silent from 30 s
    w.run(55)
    assert w.take() == []
    w.run(5)  # 60 s = silent at 30 s + hold_s
    (event,) = w.take()
    assert (event.type, event.cause, event.since, event.t) == (
        OFFLINE,
        OfflineCause.SILENCE,
        0,
        60 * S,
    )
    w.run(600)
    assert w.take() == []


def test_silence_uses_the_default_interval_when_the_birth_has_none() -> None:
    w = World(PresenceConfig(default_health_interval_s=20))
    state = birth("gw-a", "lianyang").model_copy(update={"health_interval_s": None})
    assert isinstance(w.registry.register("pudong", "huamu", "gw-a", state, 0), Registered)
    w.tracker.birth("gw-a", state.boot, 0)
    w.run(85)  # silent at 60 s, reported at 90 s
    assert w.take() == []
    w.run(5)
    assert w.types() == [(OFFLINE, "gw-a")]


def test_traffic_after_offline_gives_one_online_event_paired_with_the_offline() -> None:
    w = World()
    w.add("gw-a", "lianyang")
    w.run(100)
    (offline,) = w.take()
    w.now += 1
    w.tracker.heard("gw-a", w.now)
    w.tracker.heard("gw-a", w.now + 5)
    (online,) = w.take()
    assert online.type is ONLINE
    assert online.t == w.now
    assert online.id == f"gateway_online:gw-a:{offline.since}"
    w.run(20, heard=("gw-a",))
    assert w.take() == []


def test_a_new_birth_after_offline_gives_one_online_event() -> None:
    w = World()
    w.add("gw-a", "lianyang")
    w.kill("gw-a")
    w.run(60)
    assert w.types() == [(OFFLINE, "gw-a")]
    w.add("gw-a", "lianyang", boot="b0000002")
    assert w.types() == [(ONLINE, "gw-a")]
    w.run(20, heard=("gw-a",))
    assert w.take() == []


def test_a_gateway_back_within_the_hold_raises_nothing() -> None:
    w = World()
    w.add("gw-a", "lianyang")
    w.kill("gw-a")
    w.run(20)
    w.add("gw-a", "lianyang", boot="b0000002")  # a quick restart
    w.run(300, heard=("gw-a",))
    assert w.take() == []


def test_a_stale_will_is_ignored() -> None:
    w = World()
    w.add("gw-a", "lianyang", boot="b0000001")
    w.run(10, heard=("gw-a",))
    w.add("gw-a", "lianyang", boot="b0000002")  # the gateway restarted...
    w.tracker.death("gw-a", "b0000001", w.now + 1)  # ...and the old connection's will follows
    assert w.tracker.snapshot().gateways_online == ("gw-a",)
    w.run(35)  # no traffic: a death would be reported at 41 s, silence only at 70 s
    assert w.take() == []
    w.run(300, heard=("gw-a",))
    assert w.take() == []


def test_traffic_in_the_same_millisecond_as_the_death_does_not_revive() -> None:
    w = World()
    w.add("gw-a", "lianyang")
    w.kill("gw-a")
    w.tracker.heard("gw-a", w.now)
    w.run(30)
    assert w.types() == [(OFFLINE, "gw-a")]


def test_a_death_while_already_silent_is_not_a_second_offline() -> None:
    w = World()
    w.add("gw-a", "lianyang")
    w.run(100)
    w.kill("gw-a")
    w.run(100)
    assert w.types() == [(OFFLINE, "gw-a")]


def test_unregistered_gateways_are_ignored() -> None:
    w = World()
    w.tracker.birth("gw-x", "b0000001", 0)
    w.tracker.heard("gw-x", 0)
    w.tracker.death("gw-x", "b0000001", 0)
    w.tracker.sensor_seen("gw-x", "s1", 0)
    w.run(100)
    assert w.take() == []
    assert w.tracker.snapshot().gateways_online == ()


def test_registered_gateways_not_heard_since_start_get_a_full_silence_window() -> None:
    w = World()
    w.add("gw-a", "lianyang")
    w.now = 1000 * S  # the hub restarts much later, with the registry from its file
    fresh = PresenceTracker(w.config, w.registry, emit=w.events.append)
    w.tracker = fresh
    w.run(25)  # first tick at 1005 s: silent from 1035 s, reported at 1065 s
    assert fresh.snapshot().gateways_online == ("gw-a",)
    w.run(35)
    assert w.take() == []
    w.run(5)
    assert w.types() == [(OFFLINE, "gw-a")]


def test_sensor_overdue_then_back() -> None:
    w = World()  # offline_after 120 s + grace 30 s
    w.add("gw-a", "lianyang", sensors=(sensor("s1"), sensor("s2")))
    w.run(150, heard=("gw-a",), seen=(("gw-a", "s2"),))
    assert w.take() == []
    w.run(5, heard=("gw-a",), seen=(("gw-a", "s2"),))
    (overdue,) = w.take()
    assert (overdue.type, overdue.sensor, overdue.since) == (HubEventType.SENSOR_OVERDUE, "s1", 0)
    assert overdue.id == "sensor_overdue:gw-a:s1:0"
    w.run(100, heard=("gw-a",), seen=(("gw-a", "s2"),))
    assert w.take() == []
    w.tracker.sensor_seen("gw-a", "s1", w.now)
    (back,) = w.take()
    assert (back.type, back.sensor, back.id) == (
        HubEventType.SENSOR_BACK,
        "s1",
        "sensor_back:gw-a:s1:0",
    )
    w.run(100, heard=("gw-a",))
    assert w.take() == []


def test_an_old_replayed_reading_does_not_end_an_overdue_episode() -> None:
    w = World()
    w.add("gw-a", "lianyang", sensors=(sensor("s1"),))
    w.run(200, heard=("gw-a",), seen=())
    assert w.types() == [(HubEventType.SENSOR_OVERDUE, "gw-a")]
    w.tracker.sensor_seen("gw-a", "s1", 1 * S)  # from the outbox, long ago
    w.run(50, heard=("gw-a",), seen=())
    assert w.take() == []
    assert w.tracker.snapshot().sensors_overdue == (OverdueSensor("gw-a", "s1", 0),)


def test_sensors_under_an_offline_gateway_raise_nothing_and_get_a_fresh_window() -> None:
    w = World()
    w.add("gw-a", "lianyang", sensors=(sensor("s1"),))
    w.kill("gw-a")
    w.run(600)
    assert w.types() == [(OFFLINE, "gw-a")]
    w.add("gw-a", "lianyang", boot="b0000002", sensors=(sensor("s1"),))
    back_at = w.now
    assert w.types() == [(ONLINE, "gw-a")]
    w.run(150, heard=("gw-a",), seen=())
    assert w.take() == []
    w.run(5, heard=("gw-a",), seen=())
    (overdue,) = w.take()
    assert (overdue.type, overdue.since) == (HubEventType.SENSOR_OVERDUE, back_at)


def test_snapshot() -> None:
    w = World()
    w.add("gw-a", "lianyang", sensors=(sensor("s1"),))
    w.add("gw-b", "juquan", street="yangjing")
    w.run(10, heard=("gw-a", "gw-b"))
    w.kill("gw-b")
    w.run(200, heard=("gw-a",), seen=())
    snap = w.tracker.snapshot()
    assert snap.gateways_online == ("gw-a",)
    assert snap.gateways_offline == (OfflineGateway("gw-b", OfflineCause.DEATH, 10 * S, True),)
    assert snap.sensors_overdue == (OverdueSensor("gw-a", "s1", 10 * S),)
    assert snap.areas_out == ()


def test_many_changes_never_repeat_an_event_id() -> None:
    w = World()
    w.add("gw-a", "lianyang", sensors=(sensor("s1"),))
    for round_ in range(5):
        w.run(160, heard=("gw-a",), seen=())  # sensor overdue
        w.tracker.sensor_seen("gw-a", "s1", w.now)  # back
        w.kill("gw-a")
        w.run(60)  # offline
        w.add("gw-a", "lianyang", boot=f"b000000{round_ + 2}", sensors=(sensor("s1"),))
    ids = [e.id for e in w.take()]
    assert len(ids) == 5 * 4
    assert len(set(ids)) == len(ids)
    w.run(1000, heard=("gw-a",))
    assert w.take() == []


def test_while_the_hub_is_cut_off_nothing_is_decided() -> None:
    w = World()
    w.add("gw-a", "lianyang", sensors=(sensor("s1"),))
    w.run(10, heard=("gw-a",))
    w.tracker.link_down(w.now)
    w.run(600)  # no silence, no held offline, no overdue sensor while the hub hears nobody
    assert w.take() == []
    assert w.tracker.snapshot().gateways_online == ("gw-a",)


def test_silence_and_sensor_windows_start_again_when_the_link_is_back() -> None:
    w = World(PresenceConfig(silence_factor=10))  # silent after 100 s: more than grace + hold
    w.add("gw-a", "lianyang", sensors=(sensor("s1"),))
    w.add("gw-b", "juquan", street="yangjing", sensors=(sensor("s1"),))
    w.run(10, heard=("gw-a", "gw-b"))
    w.tracker.link_down(w.now)
    w.run(600)
    w.tracker.link_up(w.now)  # 610 s; gw-b is never heard again
    w.run(80, seen=())  # 690 s: nobody heard since the link's return, none silent yet
    w.run(45, heard=("gw-a",), seen=())  # 735 s: gw-b silent at 710 s, held until 740 s
    assert w.take() == []
    w.run(5, heard=("gw-a",), seen=())
    (offline,) = w.take()
    assert (offline.type, offline.gateway, offline.since) == (OFFLINE, "gw-b", 10 * S)
    w.run(20, heard=("gw-a",), seen=())  # gw-a's sensor: 150 s from the link's return...
    assert w.take() == []
    w.run(5, heard=("gw-a",), seen=())  # ...and overdue at the next check
    (overdue,) = w.take()
    assert (overdue.type, overdue.gateway, overdue.since, overdue.t) == (
        HubEventType.SENSOR_OVERDUE,
        "gw-a",
        610 * S,
        765 * S,
    )


def test_an_offline_held_when_the_link_drops_is_held_again_after_it() -> None:
    w = World()
    w.add("gw-a", "lianyang")
    w.run(10, heard=("gw-a",))
    w.kill("gw-a")  # 10 s: due at 40 s
    w.run(5)
    w.tracker.link_down(w.now)  # 15 s: was the will real, or the broker going down?
    w.run(10)
    w.tracker.link_up(w.now)  # 25 s: held from 55 s
    w.run(55)
    assert w.take() == []
    w.run(5)  # 85 s
    assert w.types() == [(OFFLINE, "gw-a")]
