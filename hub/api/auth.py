"""Who is calling the API: bearer tokens to a :class:`Caller`, and what a caller may see.

The admin token is the operator: every incident, ``/metrics``. A responder's token is scoped by
their roster entry: their street (an incident on it or spanning it), or for the district role
their whole district. An unknown token is 401; a token whose responder left the roster is 403.
"""

# No `from __future__ import annotations`: FastAPI reads the dependencies in the annotations.

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub.api.config import ApiConfig
from hub.api.service import ResponderInfo, ResponderRole, ResponderService
from hub.incidents.model import Incident

__all__ = ["ADMIN", "Caller", "bearer_caller"]

ADMIN = "admin"
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


def bearer_caller(config: ApiConfig, service: ResponderService) -> Callable[..., Awaitable[Caller]]:
    """A FastAPI dependency: the :class:`Caller` of a request, or 401/403."""
    tokens: dict[bytes, str | None] = {_digest(t): r for r, t in config.responders().items()}
    if config.admin_token is not None:
        tokens[_digest(config.admin_token.get_secret_value())] = None
    bearer = HTTPBearer(auto_error=False, description="A responder's or the operator's token.")

    async def caller(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Caller:
        if credentials is None:
            raise _unauthorized("a bearer token is required")
        digest = _digest(credentials.credentials)
        if digest not in tokens:
            raise _unauthorized("unknown token")
        responder_id = tokens[digest]
        if responder_id is None:
            return Caller(ADMIN, None)
        info = await service.responder(responder_id)
        if info is None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "this responder is not on the roster")
        return Caller(responder_id, info)

    return caller
