"""The incident board: each street's whole current picture, republished when it changes."""

from __future__ import annotations

from hub.incidents.board import IncidentBoard
from hub.incidents.model import Incident, IncidentScope, IncidentState
from streetwatch.anomalies import Hazard
from streetwatch.codec import load_json, validate
from streetwatch.levels import Level
from streetwatch.messages import StreetIncidents
from streetwatch.topics import TopicTree


def incident(id: str, level: Level = Level.ORANGE, **changes: object) -> Incident:
    base = Incident(
        id=id,
        key=f"k-{id}",
        hazard=Hazard.FLOOD,
        district="pudong",
        street="huamu",
        level=level,
        opened_at=1000,
        updated_at=1000,
    )
    return base.model_copy(update=changes)


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, StreetIncidents]] = []

    async def __call__(self, topic: str, payload: bytes) -> None:
        self.sent.append((topic, validate(load_json(payload), StreetIncidents)))

    def last(self, street: str) -> StreetIncidents:
        return [m for t, m in self.sent if t.endswith(f"/{street}/incident")][-1]


async def test_a_street_gets_its_current_incidents_worst_first() -> None:
    sent = Recorder()
    board = IncidentBoard(TopicTree("t"), sent)
    await board.changed(incident("a", Level.YELLOW), 5000)
    await board.changed(incident("b", Level.RED), 6000)
    topic, message = sent.sent[-1]
    assert topic == "t/sw/v1/pudong/huamu/incident"
    assert [i.id for i in message.incidents] == ["b", "a"]
    assert message.t == 6000


async def test_an_update_replaces_and_a_closed_one_leaves() -> None:
    sent = Recorder()
    board = IncidentBoard(TopicTree(), sent)
    await board.changed(incident("a"), 1)
    acked = incident("a", state=IncidentState.ACKNOWLEDGED, acknowledged_by="zhang")
    await board.changed(acked, 2)
    (only,) = sent.last("huamu").incidents
    assert (only.state, only.acknowledged_by) == ("acknowledged", "zhang")
    await board.changed(incident("a", state=IncidentState.CLOSED), 3)
    assert sent.last("huamu").incidents == ()


async def test_a_district_incident_shows_on_every_street_it_spans() -> None:
    sent = Recorder()
    board = IncidentBoard(TopicTree(), sent)
    wide = incident("d", street=None, scope=IncidentScope.DISTRICT, streets=("huamu", "yangjing"))
    await board.changed(wide, 1)
    assert [i.id for i in sent.last("huamu").incidents] == ["d"]
    assert [i.id for i in sent.last("yangjing").incidents] == ["d"]
    assert sent.last("yangjing").incidents[0].scope == "district"
