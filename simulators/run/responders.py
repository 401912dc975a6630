"""Simulated responders: the people at the end of the hub's webhook, who answer (叫应) or not.

A run is scored on whether warnings get answered, so it needs people who are paged, take their
time and tap the link, some never. ``SimulatedResponders`` is the hub's ``webhook`` receiver on
127.0.0.1. It checks each page (signature, timestamp within ``max_skew_s`` on the shared clock,
payload; a retry with the same delivery id is one page), records it, and asks
``ResponderBehaviour`` whether and when that person answers. Each decision draws from its own
``random.Random(f"{seed}:{incident}:{person}:{attempt}")``: independent of arrival order, so a
seed replays the same people. Answering is what a phone does: wait on the injected clock, ``GET``
the link (the page with the button), ``POST`` it (the button). A person answers an incident
level once: later pages of it count again only if sent after that answer was through (the
incident reopened, or its level came back). Links off this machine are never followed.

The link endpoints answer HTML only, so the verdict is read from the page: the heading's class
(``ask`` the button, ``ok`` acknowledged, ``no`` outdated), the title of a refusal, and the
"确认 By" row. An answer counts (``.acks``) only when that row names the person: the page says
"acknowledged" to whoever comes second, too. Payloads are read through a local model of the
fields used, as ``simulators`` does not import ``hub``.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import html
import logging
import random
import re
import socket
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import httpx
import uvicorn
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from simulators.score import ObservedAck, ObservedPage
from streetwatch.clock import Clock, now_ms
from streetwatch.component import Component
from streetwatch.levels import Level

__all__ = ["ResponderBehaviour", "RoleBehaviour", "SimulatedResponders"]

log = logging.getLogger(__name__)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_HEADING = re.compile(r'<h1 class="(\w+)">')
_TITLE = re.compile(r"<title>([^<]*)</title>")
_ACKED_BY = re.compile(r"<dt>确认 By</dt><dd>([^<]*)</dd>")
_REFUSALS = {
    "链接无效": "forged",
    "链接已过期": "expired",
    "链接不完整": "malformed",
    "链接已使用": "reused",
}


def _ordered(delay: tuple[float, float]) -> tuple[float, float]:
    if not 0 <= delay[0] <= delay[1]:
        raise ValueError("must be (low, high) with 0 <= low <= high")
    return delay


Delay = Annotated[tuple[float, float], AfterValidator(_ordered)]
_Key = tuple[str, Level, str]  # incident, level, person


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RoleBehaviour(_Frozen):
    """What differs for one role (e.g. the street office answers later); unset: the default."""

    answer: float | None = Field(None, ge=0, le=1, description="Probability of answering a page.")
    delay_s: Delay | None = Field(None, description="Uniform answer delay, virtual seconds.")


class ResponderBehaviour(_Frozen):
    answer: float = Field(0.9, ge=0, le=1, description="Probability a person answers a page.")
    delay_s: Delay = Field((20.0, 90.0), description="Uniform answer delay, virtual seconds.")
    roles: Mapping[str, RoleBehaviour] = Field(
        default_factory=dict, description="Overrides by role (grid_worker, street, ...)."
    )

    def decide(
        self, seed: int | str, incident: str, person: str, role: str, attempt: int
    ) -> float | None:
        """Seconds until ``person`` answers this page, or None if they never do."""
        override = self.roles.get(role, RoleBehaviour())
        answer = self.answer if override.answer is None else override.answer
        low, high = override.delay_s or self.delay_s
        rng = random.Random(f"{seed}:{incident}:{person}:{attempt}")
        answers, delay = rng.random() < answer, rng.uniform(low, high)  # both drawn: stable
        return delay if answers else None


class _Loose(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class _Incident(_Loose):
    id: str
    level: Level


class _Person(_Loose):
    id: str
    role: str


class _Page(_Loose):
    """The fields of the hub's ``PagePayload`` that a responder reads."""

    v: Literal[1]
    incident: _Incident
    recipient: _Person
    ack_url: str
    attempt: int = Field(ge=1)
    sent_at: int


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # signals belong to the program running the scenario


class SimulatedResponders(Component):
    """``async with SimulatedResponders(secret, clock=clock, seed=7) as people:`` serves
    ``people.url``; ``people.observed()`` gives the pages and answers for scoring."""

    def __init__(
        self,
        secret: str,
        *,
        clock: Clock,
        seed: int | str = 0,
        behaviour: ResponderBehaviour | None = None,
        max_skew_s: float = 300.0,
    ) -> None:
        self.secret, self.clock, self.seed = secret.encode(), clock, seed
        self.behaviour = behaviour or ResponderBehaviour()
        self.max_skew_s = max_skew_s
        self.pages: list[ObservedPage] = []
        self.acks: list[ObservedAck] = []
        self.rejected: Counter[str] = Counter()  # signature, stale, payload, route
        self.refused_by_hub: Counter[str] = Counter()  # reused, outdated, answered_by_other, ...
        self.declined = self.unsafe_links = self.failed = self.duplicates = 0
        self._deliveries: set[str] = set()
        self._answering: dict[_Key, int | None] = {}  # None: on its way; else when it ended
        self._socket: socket.socket | None = None
        self._server: _Server | None = None

    @property
    def url(self) -> str:
        """The webhook URL for the hub's notify config."""
        if self._socket is None:
            raise RuntimeError("SimulatedResponders is not running: use `async with`")
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}/page"

    @property
    def answered(self) -> int:
        return len(self.acks)

    def observed(self) -> tuple[list[ObservedPage], list[ObservedAck]]:
        return list(self.pages), list(self.acks)

    async def start(self) -> None:
        self._http = await self.enter(httpx.AsyncClient(timeout=10.0, trust_env=False))
        self._socket = socket.create_server(("127.0.0.1", 0))  # listening: requests may queue
        config = uvicorn.Config(
            self._app, interface="asgi3", lifespan="off", log_config=None, access_log=False
        )
        self._server = _Server(config)
        self._serve_task = self.spawn(self._serve(self._server, self._socket), "serve")

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            await self._serve_task

    @staticmethod
    async def _serve(server: uvicorn.Server, sock: socket.socket) -> None:
        try:
            await server.serve(sockets=[sock])
        finally:
            sock.close()

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            event = await receive()
            body, more = body + event.get("body", b""), event.get("more_body", False)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        routed = (scope["method"], scope["path"]) == ("POST", "/page")
        status = self._receive(headers, body) if routed else 404
        if not routed:
            self.rejected["route"] += 1
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def _receive(self, headers: Mapping[str, str], body: bytes) -> int:
        stamp = headers.get("x-streetwatch-timestamp", "")
        signed = headers.get("x-streetwatch-signature", "")
        mac = hmac.new(self.secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not (stamp.isdigit() and hmac.compare_digest(signed.encode(), f"sha256={mac}".encode())):
            self.rejected["signature"] += 1
            return 401
        if abs(self.clock.now() - int(stamp)) > self.max_skew_s:
            self.rejected["stale"] += 1
            return 401
        try:
            page = _Page.model_validate_json(body)
        except ValidationError:
            self.rejected["payload"] += 1
            return 400
        delivery = headers.get("x-streetwatch-delivery", body.decode())
        if delivery in self._deliveries:  # another try of a page we have (same delivery id)
            self.duplicates += 1
            return 200
        self._deliveries.add(delivery)
        person, incident = page.recipient.id, page.incident.id
        t = now_ms(self.clock)
        self.pages.append(
            ObservedPage(incident_id=incident, t=t, recipient=person, channel="webhook")
        )
        key = (incident, page.incident.level, person)
        ended = self._answering.get(key, -1)
        if ended is None or page.sent_at <= ended:  # sent before that answer was through
            return 200
        if urlsplit(page.ack_url).hostname not in LOCAL_HOSTS:
            self.unsafe_links += 1
            return 200
        role, attempt = page.recipient.role, page.attempt
        delay = self.behaviour.decide(self.seed, incident, person, role, attempt)
        if delay is None:
            self.declined += 1
        else:
            self._answering[key] = None
            self.spawn(self._answer(key, page, delay), f"answer:{incident}:{person}:{attempt}")
        return 200

    async def _answer(self, key: _Key, page: _Page, delay_s: float) -> None:
        await self.clock.sleep(delay_s)
        tapped_at, person = now_ms(self.clock), page.recipient.id
        try:
            verdict = _verdict(await self._http.get(page.ack_url), person)
            if verdict == "shown":  # the page with the button: press it
                verdict = _verdict(await self._http.post(page.ack_url), person)
        except httpx.HTTPError as exc:
            self.failed += 1
            log.warning("%s could not answer %s: %r", person, page.incident.id, exc)
            return
        finally:
            self._answering[key] = now_ms(self.clock)
        if verdict == "accepted":
            self.acks.append(ObservedAck(incident_id=page.incident.id, t=tapped_at, by=person))
        else:
            self.refused_by_hub[verdict] += 1


def _verdict(response: httpx.Response, person: str) -> str:
    """``shown`` (the button), ``accepted`` (acknowledged by ``person``) or why not."""
    if response.status_code in (403, 404, 409):
        title = _TITLE.search(response.text)
        reason = _REFUSALS.get(html.unescape(title.group(1)) if title else "", "refused")
        return {404: "unknown", 409: "closed"}.get(response.status_code, reason)
    if response.status_code != 200:
        return f"http_{response.status_code}"
    heading = _HEADING.search(response.text)
    kind = heading.group(1) if heading else ""
    if kind in ("ask", "no"):
        return "shown" if kind == "ask" else "outdated"
    if kind != "ok":
        return "unexpected"
    row = _ACKED_BY.search(response.text)
    by = html.unescape(row.group(1)).split() if row else []
    if not by:
        return "not_acknowledged"  # resolved before anyone answered
    return "accepted" if by[0] == person else "answered_by_other"
