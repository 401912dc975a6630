"""Who is calling the API: bearer tokens to a :class:`Caller`, and what a caller may see.

The admin token is the operator: every incident, ``/metrics``. A responder's token is scoped by
their roster entry: their street (an incident on it or spanning it), or for the district role
their whole district. An unknown token is 401; so is a token past its expiry (``token_expires``
in the config, on the hub's clock), with a detail saying when it expired; a token whose
responder left the roster is 403.
"""

# No `from __future__ import annotations`: FastAPI reads the dependencies in the annotations.

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub.api.config import ADMIN_TOKEN_KEY, ApiConfig
from hub.api.service import ResponderInfo, ResponderRole, ResponderService
from hub.incidents.model import Incident
from streetwatch.clock import Clock, SystemClock

__all__ = ["ADMIN", "Caller", "bearer_caller"]

ADMIN = ADMIN_TOKEN_KEY
"""The ``by`` recorded when the operator (admin token) acts."""


@dataclass(frozen=True, slots=True)
class Caller:
    """A responder on the roster, or the operator (``responder`` None)."""

    id: str
    responder: ResponderInfo | None

    def may_see(self, incident: Incident) -> bool:
        me = self.responder
        if me is None:
            return True
        if incident.district != me.district:
            return False
        if me.role is ResponderRole.DISTRICT:
            return True
        return me.street is not None and (
            incident.street == me.street or me.street in incident.streets
        )


def _digest(token: str) -> bytes:
    # Looking up the hash, not the token, keeps the lookup's timing independent of the secret.
    return hashlib.sha256(token.encode("utf-8")).digest()


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, {"WWW-Authenticate": "Bearer"})


@dataclass(frozen=True, slots=True)
class _Token:
    responder_id: str | None  # None: the operator
    expires: datetime | None

    def expired_on(self, clock: Clock) -> datetime | None:
        """Its expiry, if that has passed on ``clock``."""
        if self.expires is not None and clock.now() >= self.expires.timestamp():
            return self.expires
        return None


def _tokens(config: ApiConfig) -> dict[bytes, _Token]:
    expiry = config.token_expires
    tokens = {_digest(t): _Token(r, expiry.get(r)) for r, t in config.responders().items()}
    if config.admin_token is not None:
        admin = _Token(None, expiry.get(ADMIN_TOKEN_KEY))
        tokens[_digest(config.admin_token.get_secret_value())] = admin
    return tokens


def bearer_caller(
    config: ApiConfig, service: ResponderService, clock: Clock | None = None
) -> Callable[..., Awaitable[Caller]]:
    """A FastAPI dependency: the :class:`Caller` of a request, or 401/403.

    Expiry is judged on ``clock`` (the hub's; the wall clock if None).
    """
    tokens = _tokens(config)
    hub_clock: Clock = clock or SystemClock()
    bearer = HTTPBearer(auto_error=False, description="A responder's or the operator's token.")

    async def caller(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Caller:
        if credentials is None:
            raise _unauthorized("a bearer token is required")
        token = tokens.get(_digest(credentials.credentials))
        if token is None:
            raise _unauthorized("unknown token")
        expired = token.expired_on(hub_clock)
        if expired is not None:
            when = expired.isoformat(sep=" ", timespec="minutes")
            raise _unauthorized(f"token expired on {when}; ask the duty office for a new token")
        responder_id = token.responder_id
        if responder_id is None:
            return Caller(ADMIN, None)
        info = await service.responder(responder_id)
        if info is None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "this responder is not on the roster")
        return Caller(responder_id, info)

    return caller
