"""The responder API over an in-memory street: auth, scoping, acting, the one-tap link."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hub.api.service import Resource
from hub.incidents.model import Incident, IncidentState, ReportKind
from hub.notify.links import LinkSigner
from streetwatch.levels import Level

from .street import ADMIN, HYDRANT, INCIDENTS, World, auth, incident, open_world


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with open_world() as world:
        yield world


PROTECTED = [
    ("GET", "/metrics"),
    ("GET", "/incidents"),
    ("GET", "/incidents/huamu-fire"),
    ("POST", "/incidents/huamu-fire/ack"),
    ("POST", "/incidents/huamu-fire/resolve"),
    ("POST", "/incidents/huamu-fire/reports"),
    ("GET", "/incidents/huamu-fire/resources"),
]
BAD_HEADERS = [
    {},
    {"Authorization": "Bearer not-a-known-token-at-all"},
    {"Authorization": f"Basic {ADMIN}"},
    {"Authorization": ADMIN},
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize("headers", BAD_HEADERS)
async def test_every_endpoint_needs_a_token(
    world: World, method: str, path: str, headers: dict[str, str]
) -> None:
    body = {"kind": "on_site"} if path.endswith("reports") else None
    response = await world.client.request(method, path, headers=headers, json=body)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert world.street.by_id["huamu-fire"].state is IncidentState.OPEN


async def test_health_needs_no_token(world: World) -> None:
    response = await world.client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_metrics_are_for_the_operator(world: World) -> None:
    response = await world.client.get("/metrics", headers=auth("admin"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert b"streetwatch_hub_incidents_open 3" in response.content
    assert (await world.client.get("/metrics", headers=auth("wang-qu"))).status_code == 403


async def test_a_token_off_the_roster_is_forbidden(world: World) -> None:
    response = await world.client.get("/incidents", headers=auth("ghost"))
    assert response.status_code == 403


async def ids(world: World, who: str, query: str = "") -> list[str]:
    response = await world.client.get(f"/incidents{query}", headers=auth(who))
    assert response.status_code == 200, response.text
    return sorted(i["id"] for i in response.json())


async def test_my_street_only(world: World) -> None:
    assert await ids(world, "zhang-wei") == ["huamu-fire", "pudong-flood"]
    everything = await ids(world, "zhang-wei", "?active_only=false")
    assert everything == ["huamu-closed", "huamu-fire", "huamu-old", "pudong-flood"]
    assert await ids(world, "li-na") == ["pudong-flood", "yangjing-gas"]


async def test_district_role_sees_its_district(world: World) -> None:
    assert await ids(world, "wang-qu") == ["huamu-fire", "pudong-flood", "yangjing-gas"]
    assert await ids(world, "wang-qu", "?street=yangjing") == ["pudong-flood", "yangjing-gas"]


async def test_operator_sees_all(world: World) -> None:
    assert len(await ids(world, "admin")) == 5
    assert await ids(world, "admin", "?district=xuhui") == ["xuhui-fire"]
    assert await ids(world, "admin", "?district=pudong&street=yangjing") == [
        "pudong-flood",
        "yangjing-gas",
    ]


@pytest.mark.parametrize(
    ("who", "query"),
    [
        ("zhang-wei", "?street=yangjing"),
        ("zhang-wei", "?district=xuhui"),
        ("wang-qu", "?district=xuhui"),
    ],
)
async def test_filters_outside_my_scope_are_forbidden(world: World, who: str, query: str) -> None:
    response = await world.client.get(f"/incidents{query}", headers=auth(who))
    assert response.status_code == 403


async def test_get_one(world: World) -> None:
    response = await world.client.get("/incidents/huamu-fire", headers=auth("zhang-wei"))
    assert response.status_code == 200
    assert Incident.model_validate(response.json()) == world.street.by_id["huamu-fire"]
    assert (await world.client.get("/incidents/pudong-flood", headers=auth("li-na"))).is_success
    assert (await world.client.get("/incidents/xuhui-fire", headers=auth("admin"))).is_success


@pytest.mark.parametrize(("method", "path"), PROTECTED[2:])
async def test_outside_my_street_is_forbidden(world: World, method: str, path: str) -> None:
    body = {"kind": "on_site"} if path.endswith("reports") else None
    response = await world.client.request(method, path, headers=auth("li-na"), json=body)
    assert response.status_code == 403
    assert world.street.by_id["huamu-fire"] == INCIDENTS[0]


async def test_same_street_id_in_another_district_is_not_mine(world: World) -> None:
    response = await world.client.get("/incidents/minhang-huamu", headers=auth("zhang-wei"))
    assert response.status_code == 403


async def test_the_api_scopes_what_a_sloppy_service_answers(world: World) -> None:
    world.street.sloppy = True
    assert await ids(world, "zhang-wei") == ["huamu-fire", "pudong-flood"]
    assert await ids(world, "wang-qu") == ["huamu-fire", "pudong-flood", "yangjing-gas"]


@pytest.mark.parametrize(("method", "path"), PROTECTED[2:])
async def test_unknown_incident(world: World, method: str, path: str) -> None:
    path = path.replace("huamu-fire", "nope")
    body = {"kind": "on_site"} if path.endswith("reports") else None
    response = await world.client.request(method, path, headers=auth("admin"), json=body)
    assert response.status_code == 404


async def test_acknowledge_then_resolve(world: World) -> None:
    client = world.client
    response = await client.post("/incidents/huamu-fire/ack", headers=auth("zhang-wei"))
    assert response.status_code == 200
    assert response.json()["state"] == "acknowledged"
    assert world.street.by_id["huamu-fire"].acknowledged_by == "zhang-wei"
    response = await client.post("/incidents/huamu-fire/resolve", headers=auth("wang-qu"))
    assert response.json()["state"] == "resolved"
    assert world.street.by_id["huamu-fire"].resolved_by == "wang-qu"


async def test_operator_acts_as_admin(world: World) -> None:
    await world.client.post("/incidents/xuhui-fire/ack", headers=auth("admin"))
    assert world.street.by_id["xuhui-fire"].acknowledged_by == "admin"


async def test_closed_incident_conflicts(world: World) -> None:
    response = await world.client.post("/incidents/huamu-closed/ack", headers=auth("zhang-wei"))
    assert response.status_code == 409


async def test_field_report(world: World) -> None:
    body = {"kind": "needs_support", "note": "火势蔓延，需要增援"}
    response = await world.client.post(
        "/incidents/huamu-fire/reports", headers=auth("zhang-wei"), json=body
    )
    assert response.status_code == 201
    (report,) = world.street.by_id["huamu-fire"].reports
    assert (report.by, report.kind, report.note) == (
        "zhang-wei",
        ReportKind.NEEDS_SUPPORT,
        body["note"],
    )


@pytest.mark.parametrize(
    "body",
    [{"kind": "panic"}, {"kind": "on_site", "extra": 1}, {"kind": "on_site", "note": "x" * 2001}],
)
async def test_bad_report_is_refused(world: World, body: dict[str, object]) -> None:
    response = await world.client.post(
        "/incidents/huamu-fire/reports", headers=auth("zhang-wei"), json=body
    )
    assert response.status_code == 422
    assert world.street.by_id["huamu-fire"].reports == ()


async def test_resources(world: World) -> None:
    response = await world.client.get("/incidents/huamu-fire/resources", headers=auth("zhang-wei"))
    assert [Resource.model_validate(r) for r in response.json()] == [HYDRANT]


# ---------------------------------------------------------------------------------------------
# One-tap links.


METHODS = ["GET", "POST"]


def prefix(path: str) -> str:
    return path.removeprefix("/ack/")[:12]


async def test_opening_a_link_shows_the_button(world: World) -> None:
    path = world.ack_path("huamu-fire", "zhang-wei")
    response = await world.client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    page = response.text
    assert '<meta name="robots" content="noindex">' in page
    assert "张伟" in page
    assert "huamu-fire" in page
    assert "火" in page  # the hazard, in Chinese
    assert "未确认" in page
    assert page.count("<form") == page.count("<button") == 1
    assert '<form method="post">' in page  # no action: back to this URL
    assert ">确认收到 / I have it</button>" in page
    assert "<script" not in page
    assert "已确认收到" not in page
    assert prefix(path) not in page  # the page does not repeat the token


async def test_opening_never_acknowledges_nor_uses_the_link(world: World) -> None:
    path = world.ack_path("huamu-fire", "zhang-wei")
    for _ in range(3):  # the SMS app's preview, the chat app's preview, the person
        assert (await world.client.get(path)).status_code == 200
    fire = world.street.by_id["huamu-fire"]
    assert (fire.state, fire.acknowledged_by) == (IncidentState.OPEN, None)
    assert world.refused == []
    form = {"Content-Type": "application/x-www-form-urlencoded"}  # what the button sends
    tapped = await world.client.post(path, content=b"", headers=form)
    assert tapped.status_code == 200
    assert world.street.by_id["huamu-fire"].acknowledged_by == "zhang-wei"


async def test_the_button_acknowledges_once(world: World) -> None:
    path = world.ack_path("huamu-fire", "zhang-wei")
    response = await world.client.post(path)
    assert response.status_code == 200
    assert "已确认收到" in response.text
    assert "张伟" in response.text
    assert "<form" not in response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    fire = world.street.by_id["huamu-fire"]
    assert (fire.state, fire.acknowledged_by) == (IncidentState.ACKNOWLEDGED, "zhang-wei")
    acknowledged_at = fire.acknowledged_at
    await world.clock.advance(10)
    again = await world.client.post(path)
    assert again.status_code == 403
    assert "链接已使用" in again.text
    assert "already used" in again.text
    assert world.street.by_id["huamu-fire"].acknowledged_at == acknowledged_at
    assert world.refused == [("reused", prefix(path))]


async def test_opening_a_used_link_says_so(world: World) -> None:
    path = world.ack_path("huamu-fire", "zhang-wei")
    assert (await world.client.post(path)).status_code == 200
    response = await world.client.get(path)
    assert response.status_code == 403
    assert "链接已使用" in response.text
    assert "already used" in response.text
    assert "<form" not in response.text
    assert response.headers["cache-control"] == "no-store"
    assert world.refused == [("reused", prefix(path))]


async def test_each_link_is_its_own(world: World) -> None:
    used = world.ack_path("huamu-fire", "zhang-wei")
    fresh = world.ack_path("huamu-fire", "zhang-wei")
    assert (await world.client.post(used)).status_code == 200
    assert (await world.client.get(fresh)).status_code == 200
    assert (await world.client.post(fresh)).status_code == 200  # already acknowledged: fine
    assert world.refused == []


@pytest.mark.parametrize("method", METHODS)
async def test_forged_link_is_refused(world: World, method: str) -> None:
    other = LinkSigner(b"z" * 32, "https://hub.example.cn", 3600, clock=world.clock)
    path = "/ack/" + other.token("huamu-fire", "zhang-wei", Level.RED)
    response = await world.client.request(method, path)
    assert response.status_code == 403
    assert "链接无效" in response.text
    assert "not valid" in response.text
    assert world.refused == [("forged", prefix(path))]
    assert world.street.by_id["huamu-fire"].state is IncidentState.OPEN


@pytest.mark.parametrize("method", METHODS)
async def test_expired_link_is_refused(world: World, method: str) -> None:
    path = world.ack_path("huamu-fire", "zhang-wei")
    await world.clock.advance(3600)
    response = await world.client.request(method, path)
    assert response.status_code == 403
    assert "链接已过期" in response.text
    assert [r for r, _ in world.refused] == ["expired"]
    assert world.street.by_id["huamu-fire"].state is IncidentState.OPEN


async def test_link_opened_in_time_but_tapped_too_late(world: World) -> None:
    path = world.ack_path("huamu-fire", "zhang-wei")
    await world.clock.advance(3599)
    assert (await world.client.get(path)).status_code == 200
    await world.clock.advance(1)
    response = await world.client.post(path)
    assert response.status_code == 403
    assert "链接已过期" in response.text
    assert world.street.by_id["huamu-fire"].state is IncidentState.OPEN


@pytest.mark.parametrize("method", METHODS)
async def test_malformed_link_is_refused(world: World, method: str) -> None:
    response = await world.client.request(method, "/ack/garbage")
    assert response.status_code == 403
    assert "链接不完整" in response.text
    assert world.refused == [("malformed", "garbage")]


@pytest.mark.parametrize("method", METHODS)
async def test_link_to_unknown_or_closed_incident(world: World, method: str) -> None:
    unknown = await world.client.request(method, world.ack_path("nope", "zhang-wei"))
    assert unknown.status_code == 404
    assert "找不到该事件" in unknown.text
    closed = await world.client.request(method, world.ack_path("huamu-closed", "zhang-wei"))
    assert closed.status_code == 409
    assert "事件已关闭" in closed.text
    assert "<form" not in closed.text


async def test_failed_acknowledgement_keeps_the_link_usable(world: World) -> None:
    path = world.ack_path("huamu-fire", "zhang-wei")
    world.street.fail_next_ack = True
    with pytest.raises(RuntimeError, match="store is down"):
        await world.client.post(path)
    assert (await world.client.get(path)).status_code == 200
    response = await world.client.post(path)
    assert response.status_code == 200
    assert world.street.by_id["huamu-fire"].acknowledged_by == "zhang-wei"


@pytest.mark.parametrize("method", METHODS)
async def test_page_escapes_what_it_shows(world: World, method: str) -> None:
    world.street.by_id["<b>x</b>"] = incident("<b>x</b>", "pudong", "huamu")
    response = await world.client.request(method, world.ack_path("<b>x</b>", "zhang-wei"))
    assert response.status_code == 200
    assert "&lt;b&gt;x&lt;/b&gt;" in response.text
    assert "<b>x" not in response.text


# ---------------------------------------------------------------------------------------------
# A link is good for the level it was sent at (the street's incidents are red).


def set_level(world: World, incident_id: str, level: Level, **update: object) -> None:
    found = world.street.by_id[incident_id]
    world.street.by_id[incident_id] = found.model_copy(update={"level": level, **update})


def assert_outdated(world: World, response_text: str) -> None:
    assert "情况已升级为红色预警（I级，特别严重）" in response_text
    assert "The situation has become a red warning (level I)" in response_text
    assert "黄色预警" in response_text  # what the link was sent for
    assert "新的通知和确认链接" in response_text
    assert "A new message with a new link has been sent" in response_text
    assert "<form" not in response_text
    assert "已确认收到" not in response_text
    fire = world.street.by_id["huamu-fire"]
    assert (fire.state, fire.acknowledged_by) == (IncidentState.OPEN, None)


@pytest.mark.parametrize("method", METHODS)
async def test_a_yellow_link_on_a_red_incident_acknowledges_nothing(
    world: World, method: str
) -> None:
    path = world.ack_path("huamu-fire", "zhang-wei", Level.YELLOW)
    response = await world.client.request(method, path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    assert "张伟" in response.text
    assert_outdated(world, response.text)
    assert world.refused == [("outdated", prefix(path))]


async def test_an_outdated_link_is_not_used_up(world: World) -> None:
    path = world.ack_path("huamu-fire", "zhang-wei", Level.YELLOW)
    for _ in range(2):  # the person taps twice: told twice, never "already used"
        response = await world.client.post(path)
        assert response.status_code == 200
        assert_outdated(world, response.text)
    assert world.refused == [("outdated", prefix(path))] * 2
    set_level(world, "huamu-fire", Level.YELLOW)  # back to what the link was sent for
    assert "确认收到 / I have it" in (await world.client.get(path)).text
    response = await world.client.post(path)
    assert response.status_code == 200
    assert "已确认收到" in response.text
    assert world.street.by_id["huamu-fire"].acknowledged_by == "zhang-wei"


async def test_acknowledged_at_yellow_reopened_at_red_the_old_link_acknowledges_nothing(
    world: World,
) -> None:
    set_level(world, "huamu-fire", Level.YELLOW)
    old = world.ack_path("huamu-fire", "zhang-wei", Level.YELLOW)
    peek = world.ack_path("huamu-fire", "zhang-wei", Level.YELLOW)  # a second yellow page
    assert (await world.client.post(old)).status_code == 200
    assert world.street.by_id["huamu-fire"].state is IncidentState.ACKNOWLEDGED
    reopened = {"state": IncidentState.OPEN, "acknowledged_at": None, "acknowledged_by": None}
    set_level(world, "huamu-fire", Level.RED, **reopened)  # risen: reopened and paged at red
    for method in METHODS:
        response = await world.client.request(method, peek)
        assert response.status_code == 200
        assert_outdated(world, response.text)
    assert [r for r, _ in world.refused] == ["outdated", "outdated"]
    new = world.ack_path("huamu-fire", "zhang-wei", Level.RED)  # the red page's link
    assert (await world.client.post(new)).status_code == 200
    fire = world.street.by_id["huamu-fire"]
    assert (fire.state, fire.acknowledged_by) == (IncidentState.ACKNOWLEDGED, "zhang-wei")


async def test_a_red_link_on_a_red_incident_acknowledges(world: World) -> None:
    path = world.ack_path("huamu-fire", "zhang-wei", Level.RED)
    assert "确认收到 / I have it" in (await world.client.get(path)).text
    response = await world.client.post(path)
    assert response.status_code == 200
    assert "已确认收到" in response.text
    fire = world.street.by_id["huamu-fire"]
    assert (fire.state, fire.acknowledged_by) == (IncidentState.ACKNOWLEDGED, "zhang-wei")
    assert world.refused == []


@pytest.mark.parametrize(("sent", "now"), [(Level.RED, Level.ORANGE), (Level.ORANGE, Level.BLUE)])
async def test_a_link_sent_at_a_higher_level_than_now_acknowledges(
    world: World, sent: Level, now: Level
) -> None:
    set_level(world, "huamu-fire", now)
    path = world.ack_path("huamu-fire", "zhang-wei", sent)
    assert (await world.client.get(path)).status_code == 200
    assert "已确认收到" in (await world.client.post(path)).text
    assert world.street.by_id["huamu-fire"].acknowledged_by == "zhang-wei"
    assert world.refused == []


@pytest.mark.parametrize("method", METHODS)
async def test_an_outdated_link_to_a_closed_or_unknown_incident_says_so(
    world: World, method: str
) -> None:
    closed = world.ack_path("huamu-closed", "zhang-wei", Level.BLUE)
    assert (await world.client.request(method, closed)).status_code == 409
    unknown = world.ack_path("nope", "zhang-wei", Level.BLUE)
    assert (await world.client.request(method, unknown)).status_code == 404
    assert world.refused == []
