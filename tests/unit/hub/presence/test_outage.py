"""Area outages (断路断网断电): one event for a community or a street, not one per gateway."""

from __future__ import annotations

import pytest

from hub.events import HubEventType, OfflineCause
from hub.presence.config import PresenceConfig
from hub.presence.outage import GatewayView, largest_group
from hub.presence.tracker import PresenceTracker
from streetwatch.levels import Level
from streetwatch.location import Area
from unit.hub.presence.world import S, World, sensor

OUTAGE = HubEventType.AREA_OUTAGE
RESTORED = HubEventType.AREA_RESTORED
OFFLINE = HubEventType.GATEWAY_OFFLINE
ONLINE = HubEventType.GATEWAY_ONLINE

# Huamu street: lianyang, huamu-garden, dongming. Yangjing street: juquan, jinyang.
STREET_OF_5 = {
    "gw-a1": "lianyang",
    "gw-a2": "lianyang",
    "gw-b1": "huamu-garden",
    "gw-b2": "huamu-garden",
    "gw-c1": "dongming",
}


def world_with(gateways: dict[str, str]) -> World:
    """The gateways in Huamu, plus gw-y1 in Yangjing, each with one sensor; all heard for 10 s."""
    w = World()
    for gateway, community in gateways.items():
        w.add(gateway, community, sensors=(sensor("s1"),))
    w.add("gw-y1", "juquan", street="yangjing", sensors=(sensor("s1"),))
    w.run(10, heard=(*gateways, "gw-y1"))
    return w


@pytest.mark.parametrize("cause", [OfflineCause.DEATH, OfflineCause.SILENCE])
def test_a_street_wide_outage_is_one_area_event_and_no_gateway_events(
    cause: OfflineCause,
) -> None:
    w = world_with(STREET_OF_5)
    if cause is OfflineCause.DEATH:
        w.kill(*STREET_OF_5)
    w.run(900, heard=("gw-y1",))  # silence: 30 s after the last health at 10 s
    (event,) = w.take()
    assert event.type is OUTAGE
    assert event.level is Level.ORANGE
    assert (event.district, event.street, event.community) == ("pudong", "huamu", None)
    assert event.gateways == tuple(sorted(STREET_OF_5))
    assert event.cause is cause
    assert event.since == 10 * S
    assert event.id == f"area_outage:pudong/huamu:{event.t}"
    (out,) = w.tracker.snapshot().areas_out
    assert (out.community, out.level, out.gateways) == (None, Level.ORANGE, event.gateways)


def test_a_community_outage_while_the_rest_of_the_street_is_fine() -> None:
    gateways = {
        "gw-a1": "lianyang",
        "gw-a2": "lianyang",
        "gw-a3": "lianyang",
        "gw-b1": "huamu-garden",
        "gw-b2": "huamu-garden",
        "gw-c1": "dongming",
        "gw-c2": "dongming",
    }
    w = world_with(gateways)
    w.kill("gw-a1", "gw-a2", "gw-a3")  # 3 of 7 in the street: not the street
    fine = ("gw-b1", "gw-b2", "gw-c1", "gw-c2", "gw-y1")
    w.run(600, heard=fine)
    (event,) = w.take()
    assert event.type is OUTAGE
    assert event.level is Level.YELLOW
    assert (event.street, event.community) == ("huamu", "lianyang")
    assert event.gateways == ("gw-a1", "gw-a2", "gw-a3")
    assert sorted(w.tracker.snapshot().gateways_online) == sorted(fine)


def test_restoration_and_the_gateways_still_offline() -> None:
    w = world_with(STREET_OF_5)
    w.kill(*STREET_OF_5)
    w.run(60, heard=("gw-y1",))
    assert [e.type for e in w.take()] == [OUTAGE]
    w.add("gw-a1", "lianyang", boot="b0000002", sensors=(sensor("s1"),))
    w.add("gw-a2", "lianyang", boot="b0000002", sensors=(sensor("s1"),))
    w.run(300, heard=("gw-y1", "gw-a1", "gw-a2"))  # 2 of 5 back: not yet restored
    assert w.take() == []
    w.add("gw-b1", "huamu-garden", boot="b0000002", sensors=(sensor("s1"),))
    assert w.take() == []  # members coming back raise nothing of their own
    w.run(5, heard=("gw-y1", "gw-a1", "gw-a2", "gw-b1"))
    restored, *offline = w.take()
    assert restored.type is RESTORED
    assert restored.level is Level.ORANGE
    # declared hold_s (30 s) after the deaths at 10 s: the outage's id carries that time
    assert restored.id.removeprefix("area_restored:") == f"pudong/huamu:{40 * S}"
    assert "still offline: gw-b2, gw-c1" in restored.detail
    assert [(e.type, e.gateway) for e in offline] == [(OFFLINE, "gw-b2"), (OFFLINE, "gw-c1")]
    assert w.tracker.snapshot().areas_out == ()
    w.add("gw-b2", "huamu-garden", boot="b0000002", sensors=(sensor("s1"),))
    assert w.types() == [(ONLINE, "gw-b2")]
    w.run(300, heard=("gw-y1", "gw-a1", "gw-a2", "gw-b1", "gw-b2"))
    assert w.take() == []


def test_gateways_left_down_by_a_restoration_do_not_start_a_new_outage() -> None:
    w = world_with(STREET_OF_5)
    w.tracker = PresenceTracker(
        PresenceConfig(restore_fraction=0.3), w.registry, emit=w.events.append
    )
    w.run(5, heard=(*STREET_OF_5, "gw-y1"))
    w.kill(*STREET_OF_5)
    w.run(60, heard=("gw-y1",))
    assert [e.type for e in w.take()] == [OUTAGE]
    w.add("gw-a1", "lianyang", boot="b0000002", sensors=(sensor("s1"),))
    w.add("gw-a2", "lianyang", boot="b0000002", sensors=(sensor("s1"),))
    w.run(600, heard=("gw-y1", "gw-a1", "gw-a2"))  # 2 of 5 back: restored at 30 %
    assert w.types() == [
        (RESTORED, None),
        (OFFLINE, "gw-b1"),
        (OFFLINE, "gw-b2"),
        (OFFLINE, "gw-c1"),
    ]


def test_gateways_back_during_an_outage_raise_no_sensor_events() -> None:
    w = world_with(STREET_OF_5)
    w.kill(*STREET_OF_5)
    w.run(30, heard=("gw-y1",))
    assert [e.type for e in w.take()] == [OUTAGE]
    w.tracker.heard("gw-a1", w.now)  # 1 of 5: the outage goes on
    w.run(600, heard=("gw-y1", "gw-a1"), seen=(("gw-y1", "s1"),))
    assert w.take() == []


def test_further_gateways_of_the_area_join_the_outage_silently() -> None:
    gateways = {f"gw-a{i}": "lianyang" for i in range(1, 5)} | {
        "gw-b1": "huamu-garden",
        "gw-b2": "huamu-garden",
        "gw-c1": "dongming",
        "gw-c2": "dongming",
    }
    w = world_with(gateways)
    w.kill("gw-a1", "gw-a2", "gw-a3")  # 3 of 4 in Lianyang
    others = ("gw-b1", "gw-b2", "gw-c1", "gw-c2", "gw-y1")
    w.run(30, heard=("gw-a4", *others))
    assert [e.type for e in w.take()] == [OUTAGE]
    w.kill("gw-a4")
    w.run(600, heard=others)
    assert w.take() == []
    (out,) = w.tracker.snapshot().areas_out
    assert out.gateways == ("gw-a1", "gw-a2", "gw-a3", "gw-a4")


def test_too_few_gateways_down_are_reported_one_by_one() -> None:
    gateways = {f"gw-a{i}": "lianyang" for i in range(1, 5)}
    w = world_with(gateways)
    w.kill("gw-a1", "gw-a2")  # 2 of 4 < 60 %
    w.run(600, heard=("gw-a3", "gw-a4", "gw-y1"))
    assert sorted(w.types()) == [(OFFLINE, "gw-a1"), (OFFLINE, "gw-a2")]


def test_gateways_failing_further_apart_than_the_hold_are_not_an_outage() -> None:
    w = world_with({"gw-a1": "lianyang", "gw-a2": "lianyang"})
    w.kill("gw-a1")
    w.run(35, heard=("gw-a2", "gw-y1"))
    assert w.types() == [(OFFLINE, "gw-a1")]
    w.kill("gw-a2")
    w.run(600, heard=("gw-y1",))
    assert w.types() == [(OFFLINE, "gw-a2")]


def test_a_community_outage_escalates_when_the_street_follows() -> None:
    gateways = {
        "gw-a1": "lianyang",
        "gw-a2": "lianyang",
        "gw-a3": "lianyang",
        "gw-b1": "huamu-garden",
        "gw-b2": "huamu-garden",
        "gw-c1": "dongming",
        "gw-c2": "dongming",
    }
    w = world_with(gateways)
    w.kill("gw-a1", "gw-a2", "gw-a3")
    w.run(100, heard=("gw-b1", "gw-b2", "gw-c1", "gw-c2", "gw-y1"))
    (community,) = w.take()
    assert (community.type, community.community) == (OUTAGE, "lianyang")
    w.kill("gw-b1", "gw-b2", "gw-c1")  # now 6 of 7
    w.run(600, heard=("gw-c2", "gw-y1"))
    (street,) = w.take()
    assert (street.type, street.level, street.community) == (OUTAGE, Level.ORANGE, None)
    assert street.gateways == ("gw-a1", "gw-a2", "gw-a3", "gw-b1", "gw-b2", "gw-c1")
    for gateway, community_id in gateways.items():
        if gateway != "gw-c2":
            w.add(gateway, community_id, boot="b0000002", sensors=(sensor("s1"),))
    w.run(300, heard=(*gateways, "gw-y1"))
    assert sorted((e.type, e.community or "") for e in w.take()) == [
        (RESTORED, ""),
        (RESTORED, "lianyang"),
    ]


def test_largest_group_within_the_hold() -> None:
    area = Area(district="pd", street="hm", community="ly")
    views = [
        GatewayView(f"g{t}", area, online=False, down_at=t, since=t) for t in (0, 10, 50, 55, 60)
    ]
    assert [v.gateway for v in largest_group(views, 10)] == ["g50", "g55", "g60"]
    assert [v.gateway for v in largest_group(views, 60)] == ["g0", "g10", "g50", "g55", "g60"]
    assert largest_group([], 10) == []


# -- the hold: gateways that come back in time are no outage --------------------------------


@pytest.mark.parametrize("back_by", ["birth", "message"])
def test_a_street_reborn_within_the_hold_raises_nothing(back_by: str) -> None:
    """A broker restart: every connection drops at once and is back within seconds."""
    w = world_with(STREET_OF_5)
    w.kill(*STREET_OF_5)  # at 10 s
    w.run(10, heard=("gw-y1",))
    assert w.take() == []
    for gateway, community in STREET_OF_5.items():
        if back_by == "birth":  # the same process reconnecting: the same boot
            w.add(gateway, community, sensors=(sensor("s1"),))
        else:
            w.tracker.heard(gateway, w.now)
    w.run(600, heard=(*STREET_OF_5, "gw-y1"))
    assert w.take() == []
    assert w.tracker.snapshot().areas_out == ()


def test_a_street_that_stays_dead_is_one_outage_after_the_hold() -> None:
    w = world_with(STREET_OF_5)
    w.kill(*STREET_OF_5)  # at 10 s
    w.run(25, heard=("gw-y1",))  # 35 s: held; nor are the gateways' own offlines out
    assert w.take() == []
    assert [g.reported for g in w.tracker.snapshot().gateways_offline] == [False] * 5
    w.run(5, heard=("gw-y1",))  # 40 s = the deaths + hold_s
    (event,) = w.take()
    assert (event.type, event.t, event.since) == (OUTAGE, 40 * S, 10 * S)
    assert event.gateways == tuple(sorted(STREET_OF_5))
    w.run(600, heard=("gw-y1",))
    assert w.take() == []


def test_too_few_left_down_after_the_hold_are_reported_one_by_one() -> None:
    w = world_with(STREET_OF_5)
    w.kill(*STREET_OF_5)  # at 10 s
    w.run(10, heard=("gw-y1",))
    back = ("gw-a1", "gw-a2", "gw-b1")  # 2 of 5 still down: 40 % < 60 %
    for gateway in back:
        w.tracker.heard(gateway, w.now)
    w.run(15, heard=("gw-y1", *back))  # 35 s
    assert w.take() == []
    w.run(5, heard=("gw-y1", *back))  # 40 s: their own hold is over
    assert w.types() == [(OFFLINE, "gw-b2"), (OFFLINE, "gw-c1")]


def test_a_staggered_outage_holds_the_first_offlines_until_the_group_is_held() -> None:
    w = world_with(STREET_OF_5)
    w.kill("gw-a1")  # at 10 s
    w.run(10, heard=("gw-a2", "gw-b1", "gw-b2", "gw-c1", "gw-y1"))
    w.kill("gw-b1")  # at 20 s
    w.run(5, heard=("gw-a2", "gw-b2", "gw-c1", "gw-y1"))
    w.kill("gw-c1")  # at 25 s: 3 of 5 down together from here (no community is out)
    w.run(25, heard=("gw-a2", "gw-b2", "gw-y1"))  # 50 s: gw-a1's own hold ended at 40 s
    assert w.take() == []
    w.run(5, heard=("gw-a2", "gw-b2", "gw-y1"))  # 55 s = 25 s + hold_s
    (event,) = w.take()
    assert (event.type, event.t, event.since) == (OUTAGE, 55 * S, 10 * S)
    assert event.gateways == ("gw-a1", "gw-b1", "gw-c1")


# -- the hub's own link: while it is cut off, a will or a silence is no sign ---------------------


def test_a_broker_restart_whose_gateways_are_back_in_the_grace_raises_nothing() -> None:
    w = world_with(STREET_OF_5)
    w.tracker.link_down(w.now)  # at 10 s; the broker sends every will as it goes down
    w.kill(*STREET_OF_5)
    w.run(15)  # the broker is down 15 s: the hub hears nobody, ticks decide nothing
    w.tracker.link_up(w.now)  # 25 s
    w.kill(*STREET_OF_5)  # the wills again: queued for the hub's session, and retained
    w.run(20, heard=("gw-y1",))  # 45 s: 35 s after the deaths, more than hold_s
    for gateway, community in STREET_OF_5.items():
        w.add(gateway, community, sensors=(sensor("s1"),))
    w.run(600, heard=(*STREET_OF_5, "gw-y1"))
    assert w.take() == []


def test_deaths_during_a_broker_restart_count_from_the_end_of_the_grace() -> None:
    """The power cut and the broker restart together: reported, once the hub can tell."""
    w = world_with(STREET_OF_5)
    w.tracker.link_down(w.now)  # 10 s
    w.kill(*STREET_OF_5)
    w.run(15)
    w.tracker.link_up(w.now)  # 25 s: the grace ends at 55 s, the hold at 85 s
    w.run(55, heard=("gw-y1",))  # 80 s
    assert w.take() == []
    w.run(5, heard=("gw-y1",))
    (event,) = w.take()
    assert (event.type, event.t, event.since) == (OUTAGE, 85 * S, 10 * S)
    assert event.gateways == tuple(sorted(STREET_OF_5))


def test_a_real_outage_while_the_link_is_up_is_reported_after_the_hold() -> None:
    w = world_with(STREET_OF_5)
    w.tracker.link_down(w.now)  # a blip at 10 s...
    w.run(5)
    w.tracker.link_up(w.now)  # ...over at 15 s; its grace at 45 s
    w.run(45, heard=(*STREET_OF_5, "gw-y1"))  # 60 s
    w.kill(*STREET_OF_5)
    w.run(25, heard=("gw-y1",))
    assert w.take() == []
    w.run(5, heard=("gw-y1",))  # 90 s = the deaths + hold_s
    (event,) = w.take()
    assert (event.type, event.t, event.since) == (OUTAGE, 90 * S, 60 * S)
    assert event.gateways == tuple(sorted(STREET_OF_5))
