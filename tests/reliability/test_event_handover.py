"""An event is stored, acknowledged and confirmed only once the incident engine has taken it.

The intake as the hub wires it (``running_intake``: real files, real writer), with a ``joined``
subscriber standing in for the engine's queue (``Responding.consume``), held until the test lets
it go. Before the fix the event was stored and confirmed while the engine had not yet seen it:
a hub killed in that moment kept an alarm no incident ever heard of, and the gateway, told it
was stored, would not send it again.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from hub.fanout import Located
from reliability.hub_intake import running_intake
from reliability.payloads import T0, gateway
from streetwatch.codec import encode
from streetwatch.messages import AnomalyEvent, Confirm
from streetwatch.topics import Channel, TopicTree

TREE = TopicTree("t-reliability")


async def test_the_engine_has_an_event_before_it_is_stored_or_confirmed(tmp_path: Path) -> None:
    g = gateway("gw-a")
    topic = TREE.gateway(g.area.district, g.area.street, g.gateway, Channel.EVENT)
    birth = TREE.gateway(g.area.district, g.area.street, g.gateway, Channel.STATE)
    async with running_intake(tmp_path, T0) as run, run.events.subscribe(joined=True) as engine:
        assert await run.answer(birth, encode(g.birth(T0))) == "stored"
        alarm = g.event(T0)
        feeding = asyncio.create_task(run.feed(topic, encode(alarm)))
        taken = await engine.get()  # the engine has it, and is still busy with it
        assert isinstance(taken, Located)
        assert isinstance(taken.message, AnomalyEvent)
        assert taken.message.id == alarm.id
        await run.writer.flush()  # whatever was handed over is written and confirmed by now
        assert not feeding.done()
        assert [h.key for h in run.handed if h.key is not None and h.key.channel == "event"] == []

        engine.task_done()  # the engine has handled it
        incoming = await feeding
        await run.writer.flush()
        assert incoming.mid in run.acked
        await run.clock.advance(5)  # the confirmer's interval
        confirmed = [c for c in run.commands if isinstance(c, Confirm) and c.channel == "event"]
        assert [r for c in confirmed for r in c.ranges] == [(alarm.seq, alarm.seq)]


async def test_without_a_joined_subscriber_nothing_waits(tmp_path: Path) -> None:
    g = gateway("gw-a")
    topic = TREE.gateway(g.area.district, g.area.street, g.gateway, Channel.EVENT)
    birth = TREE.gateway(g.area.district, g.area.street, g.gateway, Channel.STATE)
    async with running_intake(tmp_path, T0) as run, run.events.subscribe() as listener:
        assert await run.answer(birth, encode(g.birth(T0))) == "stored"
        assert await run.answer(topic, encode(g.event(T0))) == "stored"
        assert listener.qsize() == 1  # a plain listener is told, and holds up nothing
