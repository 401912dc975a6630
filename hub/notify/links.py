"""Signed one-tap acknowledgement links: a phone without the app answers a page (叫应) in a tap.

A link is ``<base_url>/ack/<token>`` with ``token = b64url(payload) "." b64url(mac)``, where
the payload is compact JSON (version, incident id, responder id, the warning level the page
was sent at, expiry in Unix seconds, a random nonce) and ``mac = HMAC-SHA256(secret, payload)``.
The level lets the hub refuse a link sent for a lower level than the incident has now: the
person was not told how serious it has become (see ``outdated`` below). :class:`LinkSigner`
makes and checks tokens; it keeps no state. :class:`UsedLinks` remembers the nonces already
used, in one SQLite file, so that a link acknowledges once, also across hub restarts.

Refusals, each a :class:`LinkRefused` with its ``reason``::

    malformed   not two unpadded base64url parts, too long, or a signed payload we cannot read
    forged      the MAC does not match (wrong secret, tampered payload or signature)
    expired     signed by us, but its expiry has passed
    reused      (not raised here) the nonce was already claimed in UsedLinks
    outdated    (not raised here) the incident's level rose above the link's since it was sent

Tokens of payload version 1 (before the level) are refused as malformed.

The MAC is checked before the payload is parsed, so nothing unauthenticated is interpreted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from streetwatch.clock import Clock, SystemClock
from streetwatch.levels import Level
from streetwatch.sqlite_file import SqliteFile

__all__ = ["LinkClaim", "LinkRefused", "LinkSigner", "RefusalReason", "UsedLinks", "UsedLinksError"]

RefusalReason = Literal["forged", "expired", "malformed", "reused", "outdated"]
MIN_SECRET_BYTES = 32
MAX_TOKEN_CHARS = 1024
_PART = re.compile(r"[A-Za-z0-9_-]+")


class LinkRefused(Exception):
    """A token that acknowledges nothing; ``reason`` says why (see the module docstring)."""

    def __init__(self, reason: RefusalReason) -> None:
        self.reason: RefusalReason = reason
        super().__init__(f"acknowledgement link refused: {reason}")


class LinkClaim(BaseModel):
    """What a valid token says: who may acknowledge which incident paged at which level, until
    when."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    incident_id: str = Field(min_length=1)
    responder_id: str = Field(min_length=1)
    level: Level = Field(description="The incident's level in the message the link was sent in.")
    nonce: str = Field(min_length=8, max_length=64)
    expires: int = Field(description="Unix seconds.")


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    v: Literal[2]
    i: str
    r: str
    lv: Level
    e: int
    n: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not _PART.fullmatch(text):
        raise LinkRefused("malformed")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise LinkRefused("malformed") from None
    if _b64(data) != text:  # one spelling per token: no lookalikes with other trailing bits
        raise LinkRefused("malformed")
    return data


def _random_nonce() -> str:
    return secrets.token_urlsafe(12)


class LinkSigner:
    """Makes and checks tokens with ``secret``; links live ``ttl_s`` seconds on ``clock``.

    ``nonce`` draws each link's nonce (random by default; a test may make it predictable).
    """

    def __init__(
        self,
        secret: bytes,
        base_url: str,
        ttl_s: float,
        *,
        clock: Clock,
        nonce: Callable[[], str] = _random_nonce,
    ) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the link secret must be at least {MIN_SECRET_BYTES} bytes long")
        if ttl_s <= 0:
            raise ValueError("ttl_s must be positive")
        self._secret = secret
        self.base_url = base_url.rstrip("/")
        self.ttl_s = ttl_s
        self._clock = clock
        self._nonce = nonce

    def token(self, incident_id: str, responder_id: str, level: Level) -> str:
        """A token for ``responder_id`` to acknowledge ``incident_id`` paged at ``level``."""
        expires = int(self._clock.now() + self.ttl_s)
        payload = _Payload(v=2, i=incident_id, r=responder_id, lv=level, e=expires, n=self._nonce())
        body = payload.model_dump_json().encode("utf-8")
        return f"{_b64(body)}.{_b64(self._mac(body))}"

    def url(self, incident_id: str, responder_id: str, level: Level) -> str:
        """The link to put in an SMS, an e-mail or a chat message paging at ``level``."""
        return f"{self.base_url}/ack/{self.token(incident_id, responder_id, level)}"

    def verify(self, token: str) -> LinkClaim:
        """The claim of a token we signed that has not expired, or :class:`LinkRefused`."""
        if len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
            raise LinkRefused("malformed")
        body_text, mac_text = token.split(".")
        body, mac = _unb64(body_text), _unb64(mac_text)
        if not hmac.compare_digest(mac, self._mac(body)):
            raise LinkRefused("forged")
        try:
            payload = _Payload.model_validate_json(body)
            claim = LinkClaim(
                incident_id=payload.i,
                responder_id=payload.r,
                level=payload.lv,
                nonce=payload.n,
                expires=payload.e,
            )
        except ValidationError:
            raise LinkRefused("malformed") from None
        if self._clock.now() >= claim.expires:
            raise LinkRefused("expired")
        return claim

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._secret, body, hashlib.sha256).digest()


# ---------------------------------------------------------------------------------------------
# Used nonces.

SCHEMA_VERSION = 1
PRUNE_GRACE_S = 300
"""A used nonce is forgotten this long after its link expired (the signer refuses it by then;
the grace covers a claim racing the expiry)."""

_SCHEMA = """
CREATE TABLE used_link (nonce TEXT PRIMARY KEY, expires INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX used_link_expires ON used_link (expires);
"""


class UsedLinksError(Exception):
    """The used-links file cannot be opened or used; the message says what to do."""


class UsedLinks(SqliteFile):
    """The nonces of links already used. ``async with UsedLinks(path) as used`` opens the file;
    ``path=None`` keeps them in memory. Commits are synchronous (``FULL``): a claimed link stays
    claimed after a crash. ``clock`` decides which records are old enough to drop."""

    _already_open = "the used-links store is already open"
    _not_open = "the used-links store is not open: use `async with`"
    _error = UsedLinksError
    _what = "used-links"
    _schema = _SCHEMA
    _schema_version = SCHEMA_VERSION
    _schema_advice = (
        "move the file aside (links already used could then be used once more until they expire)"
    )

    def __init__(
        self, path: Path | None, *, clock: Clock | None = None, lock_timeout_s: float = 5.0
    ) -> None:
        super().__init__(path, lock_timeout_s=lock_timeout_s)
        self._clock = clock or SystemClock()

    async def claim(self, nonce: str, expires: int) -> bool:
        """Record ``nonce`` as used; False if it already was. Drops long-expired records."""
        async with self._transaction() as db:
            await db.execute(
                "DELETE FROM used_link WHERE expires < ?", (int(self._clock.now()) - PRUNE_GRACE_S,)
            )
            cursor = await db.execute(
                "INSERT OR IGNORE INTO used_link (nonce, expires) VALUES (?, ?)", (nonce, expires)
            )
            return cursor.rowcount == 1

    async def is_used(self, nonce: str) -> bool:
        """Whether ``nonce`` was claimed, without claiming it (opening a link is not using it)."""
        async with self._transaction() as db:
            rows = await db.execute_fetchall("SELECT 1 FROM used_link WHERE nonce = ?", (nonce,))
        return bool(list(rows))

    async def release(self, nonce: str) -> None:
        """Forget a claim whose acknowledgement failed, so the person can tap again."""
        async with self._transaction() as db:
            await db.execute("DELETE FROM used_link WHERE nonce = ?", (nonce,))
