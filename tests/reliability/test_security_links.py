"""Security of the one-tap acknowledgement links, on a real hub over HTTP.

A link from a real page is tampered with every way a person holding it could try: its signature,
its incident, its responder or its level changed, or signed with another key; a genuine link
past its expiry; a link used once already. None acknowledges; each answers 403 with a page
that says, in the responder's words (Chinese first, then English), what is wrong and what to do
instead, and each is in the audit trail. The used link stays used: one acknowledgement, one
audit entry. (tests/unit/hub/api/test_links.py and test_app.py check the signer and the app on
their own; tests/integration/hub/test_responding.py taps a genuine link end to end.)
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

from support.services import MosquittoService

from hub.incidents.audit import AuditAction
from hub.incidents.model import IncidentState
from hub.notify.links import LinkSigner
from streetwatch.clock import ManualClock
from streetwatch.levels import Level

from .security_hub import GRID_WORKER, RespondingHub, responding_hub

LINK_SECRET = "L" * 40
# What the responder reads: why, in Chinese and English, and how to acknowledge instead.
FORGED = ("链接无效", "This link is not valid.")
EXPIRED = ("链接已过期", "This link has expired.")
USED = ("链接已使用", "If you acknowledged with it, nothing more is needed.")
INSTEAD = "如需确认，请在值班 App 中操作，或回复通知、致电值班室。"


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def tampered(path: str, **changes: object) -> str:
    """``path`` with fields of its signed payload changed and the original signature kept."""
    body, mac = path.removeprefix("/ack/").split(".")
    payload = json.loads(_unb64(body)) | changes
    return f"/ack/{_b64(json.dumps(payload, separators=(',', ':')).encode())}.{mac}"


def flipped_signature(path: str) -> str:
    body, mac = path.removeprefix("/ack/").split(".")
    raw = bytearray(_unb64(mac))
    raw[0] ^= 0x01
    return f"/ack/{body}.{_b64(bytes(raw))}"


def signed_path(secret: str, incident: str, at: float) -> str:
    """A link for the grid worker signed with ``secret`` at ``at`` (Unix s), living 60 s."""
    signer = LinkSigner(secret.encode(), "http://x", 60, clock=ManualClock(start=at))
    return "/ack/" + signer.token(incident, GRID_WORKER, Level.RED)


async def refused(hub: RespondingHub, path: str, why: tuple[str, str]) -> None:
    """Opening (GET) and tapping (POST) ``path`` are refused with a page saying ``why``."""
    for method in ("GET", "POST"):
        response = await hub.api.request(method, path)
        assert response.status_code == 403, (method, path, response.text)
        for words in (*why, INSTEAD):
            assert words in response.text, (method, path, words)


async def test_forged_expired_and_used_links_acknowledge_nothing(
    tmp_path: Path, mosquitto: MosquittoService, topic_prefix: str
) -> None:
    api = {"port": 0, "link_secret": LINK_SECRET}
    async with responding_hub(tmp_path, mosquitto, topic_prefix, api) as hub:
        incident = await hub.red_fire(mosquitto, topic_prefix)
        genuine = await hub.ack_path(GRID_WORKER, Level.RED)
        forgeries = [
            flipped_signature(genuine),
            tampered(genuine, i="I-20200101-0001"),
            tampered(genuine, r="li"),
            tampered(genuine, lv="blue"),
            signed_path("another key, " + LINK_SECRET, incident, time.time()),
        ]
        for path in forgeries:
            await refused(hub, path, FORGED)
        expired = signed_path(LINK_SECRET, incident, time.time() - 3600)
        await refused(hub, expired, EXPIRED)
        still = await hub.hub.responding.store.get(incident)
        assert still is not None
        assert still.state is IncidentState.OPEN

        tapped = await hub.api.post(genuine)
        assert tapped.status_code == 200, tapped.text
        assert "已确认收到" in tapped.text
        await refused(hub, genuine, USED)

        store = hub.hub.responding.store
        acked = await store.get(incident)
        assert acked is not None
        assert (acked.state, acked.acknowledged_by) == (IncidentState.ACKNOWLEDGED, GRID_WORKER)
        trail = await store.audit(incident)
        assert [e.actor for e in trail if e.action is AuditAction.ACKNOWLEDGED] == [GRID_WORKER]
        reasons = [e.detail.split()[0] for e in await store.audit(None)]
        assert reasons == ["forged"] * 2 * len(forgeries) + ["expired"] * 2 + ["reused"] * 2
