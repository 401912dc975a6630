"""The responder HTTP API: incidents of my street, acknowledge, resolve, report, nearby hydrants.

Every endpoint but ``/health`` and ``/ack/{token}`` needs ``Authorization: Bearer <token>``
(tokens in :class:`~hub.api.config.ApiConfig`). The admin token sees everything; a responder's
token sees their street (the district role: their district). Answers: 401 without a valid token,
403 outside the caller's scope, 404 for an unknown incident, 409 for a closed one.

``/ack/{token}`` is the one-tap link of a page. ``GET`` only verifies the signature and expiry
and that the link is unused, and answers a small HTML page with the incident and one button:
SMS and chat apps fetch links to preview them, and a preview must not acknowledge (叫应) for
someone who never saw the page. The button's form sends ``POST`` to the same URL, which
verifies, claims the nonce once and acknowledges as the link's responder. A refused link (forged,
expired, malformed, reused) answers 403 on either method and is reported to ``on_refused``.

A link carries the level it was sent at. If the incident's level is now higher (the incident
rose, was reopened and paged again), either method acknowledges nothing and leaves the link
unused: it answers 200 with a page saying the situation has become <level> and a new message
with a new link has been sent, and reports ``outdated`` to ``on_refused``. Nobody acknowledges
a red incident from a yellow page. A link at the incident's level or above works as before.
"""

# No `from __future__ import annotations`: FastAPI reads the dependencies in the annotations.

import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from hub.api import pages
from hub.api.auth import Caller, bearer_caller
from hub.api.config import ApiConfig
from hub.api.service import (
    IncidentClosed,
    Resource,
    ResponderRole,
    ResponderService,
    UnknownIncident,
)
from hub.incidents.model import Incident, IncidentState, ReportKind
from hub.notify.links import LinkClaim, LinkRefused, LinkSigner, RefusalReason, UsedLinks
from streetwatch.clock import Clock

__all__ = ["Health", "Problem", "RefusedHook", "ReportIn", "create_app"]

RefusedHook = Callable[[RefusalReason, str], Awaitable[None] | None]
"""Told (reason, first characters of the token) of every refused link, for the audit trail."""

TOKEN_PREFIX_CHARS = 12
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


class Problem(BaseModel):
    detail: str = Field(description="What went wrong.")


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class ReportIn(BaseModel):
    """A field report from a responder."""

    model_config = ConfigDict(extra="forbid")

    kind: ReportKind = Field(description="on_site 已到场, confirmed 确认险情, ...")
    note: str = Field("", max_length=2000, description="Free text, e.g. what they see.")


def _problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    words = {
        401: "No bearer token, or one the hub does not know.",
        403: "The incident (or the filter) is outside the caller's street or district.",
        404: "No incident has this id.",
        409: "The incident is closed.",
    }
    return {code: {"model": Problem, "description": words[code]} for code in codes}


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {}}}


_LINK_PROBLEMS: dict[int | str, dict[str, Any]] = {
    403: _html("Refused link (forged, expired, malformed, already used): a page saying why."),
    404: _html("The link's incident is unknown: a page saying so."),
    409: _html("The link's incident is closed: a page saying so."),
}


DESCRIPTION = """\
Street-level incidents for the people who answer them (叫应): list what is open in my street,
acknowledge, resolve, report from the field, find the nearest hydrants with pressure.

Authenticate with `Authorization: Bearer <token>`. `/ack/{token}` is the one-tap link sent in
pages and needs no other credential: the link is signed, expires, and works once. Opening it
(`GET`) changes nothing and shows a page whose button acknowledges (`POST`), so that link
previews in SMS and chat apps acknowledge nothing. A link sent at a lower level than the
incident has now acknowledges nothing: its page names the new level (a newer page has a new
link).
"""


def create_app(
    service: ResponderService,
    config: ApiConfig,
    links: LinkSigner,
    used: UsedLinks,
    *,
    on_refused: RefusedHook | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """The API over ``service``; ``used`` must be open (``async with``) while it serves.
    Token expiry is judged on ``clock`` (the hub's; the wall clock if None)."""
    app = FastAPI(
        title="StreetWatch responder API",
        version="1",
        description=DESCRIPTION,
        generate_unique_id_function=lambda route: route.name,  # operationId: list_incidents
        openapi_tags=[
            {"name": "incidents", "description": "Incidents in the caller's scope."},
            {"name": "links", "description": "One-tap acknowledgement from a page."},
            {"name": "system", "description": "Health and metrics."},
        ],
    )

    Me = Annotated[Caller, Depends(bearer_caller(config, service, clock))]

    async def visible(
        incident_id: Annotated[str, Path(min_length=1, max_length=200)], me: Me
    ) -> Incident:
        incident = await service.get(incident_id)
        if incident is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no incident {incident_id!r}")
        if not me.may_see(incident):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "outside your street")
        return incident

    Seen = Annotated[Incident, Depends(visible)]

    async def service_error(request: Request, exc: Exception) -> JSONResponse:
        code = 404 if isinstance(exc, UnknownIncident) else 409
        return JSONResponse({"detail": str(exc)}, status_code=code)

    app.add_exception_handler(UnknownIncident, service_error)
    app.add_exception_handler(IncidentClosed, service_error)

    @app.get("/health", tags=["system"], summary="Liveness (no token needed)")
    async def health() -> Health:
        return Health()

    @app.get(
        "/metrics",
        tags=["system"],
        summary="Prometheus metrics (operator token)",
        response_class=PlainTextResponse,
        responses={200: {"content": {PROMETHEUS_TEXT: {}}}, **_problems(401, 403)},
    )
    async def metrics(me: Me) -> PlainTextResponse:
        if me.responder is not None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "metrics need the operator token")
        return PlainTextResponse(await service.metrics(), media_type=PROMETHEUS_TEXT)

    @app.get(
        "/incidents",
        tags=["incidents"],
        summary="Incidents of my street",
        description="A responder sees their street (the district role: their district, "
        "narrowed by `street`); the operator sees all, narrowed by `district` and `street`.",
        responses=_problems(401, 403),
    )
    async def list_incidents(
        me: Me,
        district: Annotated[str | None, Query(max_length=64)] = None,
        street: Annotated[str | None, Query(max_length=64)] = None,
        active_only: Annotated[bool, Query(description="Open or acknowledged only.")] = True,
    ) -> list[Incident]:
        r = me.responder
        if r is not None:
            mine = r.street if r.role is not ResponderRole.DISTRICT else street
            if district not in (None, r.district) or street not in (None, mine):
                raise HTTPException(status.HTTP_403_FORBIDDEN, "outside your street")
            district, street = r.district, mine
        found = await service.incidents(district, street, active_only)
        return [i for i in found if me.may_see(i) and (i.active or not active_only)]

    @app.get(
        "/incidents/{incident_id}",
        tags=["incidents"],
        summary="One incident",
        responses=_problems(401, 403, 404),
    )
    async def get_incident(incident: Seen) -> Incident:
        return incident

    @app.post(
        "/incidents/{incident_id}/ack",
        tags=["incidents"],
        summary="Acknowledge (叫应): stops the pages",
        responses=_problems(401, 403, 404, 409),
    )
    async def acknowledge(incident: Seen, me: Me) -> Incident:
        return await service.acknowledge(incident.id, me.id)

    @app.post(
        "/incidents/{incident_id}/resolve",
        tags=["incidents"],
        summary="Resolve: the danger is over",
        responses=_problems(401, 403, 404, 409),
    )
    async def resolve(incident: Seen, me: Me) -> Incident:
        return await service.resolve(incident.id, me.id)

    @app.post(
        "/incidents/{incident_id}/reports",
        tags=["incidents"],
        summary="Report from the field",
        status_code=status.HTTP_201_CREATED,
        responses=_problems(401, 403, 404, 409),
    )
    async def report(incident: Seen, me: Me, body: ReportIn) -> Incident:
        return await service.report(incident.id, me.id, body.kind, body.note)

    @app.get(
        "/incidents/{incident_id}/resources",
        tags=["incidents"],
        summary="Nearest hydrants with pressure now",
        responses=_problems(401, 403, 404),
    )
    async def resources(incident: Seen) -> list[Resource]:
        return await service.nearby_resources(incident.id)

    async def report_refusal(reason: RefusalReason, token: str) -> None:
        if on_refused is not None:
            outcome = on_refused(reason, token[:TOKEN_PREFIX_CHARS])
            if inspect.isawaitable(outcome):
                await outcome

    async def refuse(reason: RefusalReason, token: str) -> HTMLResponse:
        await report_refusal(reason, token)
        return HTMLResponse(pages.refused(reason), 403, headers=pages.HEADERS)

    def risen(incident: Incident, claim: LinkClaim) -> bool:
        """Whether ``incident`` is now more serious than the page the link came with."""
        return incident.state is not IncidentState.CLOSED and incident.level > claim.level

    async def outdated(incident: Incident, claim: LinkClaim, token: str) -> HTMLResponse:
        await report_refusal("outdated", token)
        who = await service.responder(claim.responder_id)
        html = pages.outdated(incident, claim.level, claim.responder_id, who)
        return HTMLResponse(html, headers=pages.HEADERS)

    @app.get(
        "/ack/{token}",
        tags=["links"],
        summary="Open a one-tap link: the incident and a button (changes nothing)",
        description="Verifies the link without using it and answers a mobile page in Chinese "
        "(and English): the incident and one button, 确认收到 / I have it, whose form posts to "
        "this URL. Link previews of SMS and chat apps fetch this and acknowledge nothing. A "
        "refused link (forged, expired, malformed, already used) answers a page saying why. "
        "A link sent at a lower level than the incident has now answers a page naming the new "
        "level, without the button.",
        response_class=HTMLResponse,
        responses={
            200: _html("The incident and the button; or, for an outdated link, the new level."),
            **_LINK_PROBLEMS,
        },
    )
    async def open_ack_link(token: str) -> HTMLResponse:
        try:
            claim = links.verify(token)
        except LinkRefused as exc:
            return await refuse(exc.reason, token)
        if await used.is_used(claim.nonce):
            return await refuse("reused", token)
        incident = await service.get(claim.incident_id)
        if incident is None:
            return HTMLResponse(pages.unknown(), 404, headers=pages.HEADERS)
        if incident.state is IncidentState.CLOSED:
            return HTMLResponse(pages.closed(), 409, headers=pages.HEADERS)
        if risen(incident, claim):
            return await outdated(incident, claim, token)
        who = await service.responder(claim.responder_id)
        html = pages.confirm(incident, claim.responder_id, who)
        return HTMLResponse(html, headers=pages.HEADERS)

    @app.post(
        "/ack/{token}",
        tags=["links"],
        summary="Acknowledge (叫应) with a one-tap link: the button of its page",
        description="Verifies the link, uses it (once) and acknowledges as its responder; "
        "answers a mobile page in Chinese: 已确认收到 and the incident, or why the link is "
        "refused (forged, expired, malformed, already used). A link sent at a lower level than "
        "the incident has now acknowledges nothing, stays unused and answers a page naming the "
        "new level. No body is read.",
        response_class=HTMLResponse,
        responses={
            200: _html(
                "Acknowledged: 已确认收到 and the incident; or, for an outdated link, not "
                "acknowledged: the new level."
            ),
            **_LINK_PROBLEMS,
        },
    )
    async def ack_link(token: str) -> HTMLResponse:
        try:
            claim = links.verify(token)
        except LinkRefused as exc:
            return await refuse(exc.reason, token)
        if not await used.claim(claim.nonce, claim.expires):
            return await refuse("reused", token)
        try:
            current = await service.get(claim.incident_id)
        except Exception:
            await used.release(claim.nonce)
            raise
        if current is not None and risen(current, claim):
            await used.release(claim.nonce)  # not consumed: it works if the level falls back
            return await outdated(current, claim, token)
        # The service does not take the link's level: a rise that lands between the check above
        # and this call is not caught (the window is one lock acquisition in the engine).
        try:
            incident = await service.acknowledge(claim.incident_id, claim.responder_id)
        except UnknownIncident:
            return HTMLResponse(pages.unknown(), 404, headers=pages.HEADERS)
        except IncidentClosed:
            return HTMLResponse(pages.closed(), 409, headers=pages.HEADERS)
        except Exception:
            await used.release(claim.nonce)  # not acknowledged: let the person tap again
            raise
        who = await service.responder(claim.responder_id)
        html = pages.acknowledged(incident, claim.responder_id, who)
        return HTMLResponse(html, headers=pages.HEADERS)

    return app
