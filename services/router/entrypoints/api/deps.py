"""Dependencies: the router container and who is calling (admin or one agent)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.router.adapters.state import RoutingState
from services.router.bootstrap import Router

bearer = HTTPBearer(auto_error=False)


def get_router(request: Request) -> Router:
    return request.app.state.router


RouterDep = Annotated[Router, Depends(get_router)]


def get_state(router: RouterDep) -> RoutingState:
    return router.state


StateDep = Annotated[RoutingState, Depends(get_state)]


@dataclass(frozen=True)
class Principal:
    admin: bool = False
    agent_id: str | None = None

    def require_agent(self, agent_id: str) -> None:
        """An agent acts only on their own profile, offers and contacts."""
        if not self.admin and self.agent_id != agent_id:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "agents can act only on their own work")


async def get_principal(
    router: RouterDep, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    if creds is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing bearer token",
                            headers={"WWW-Authenticate": "Bearer"})
    if hmac.compare_digest(creds.credentials, router.settings.admin_token):
        return Principal(admin=True)
    agent_id = await router.state.agent_for_token(creds.credentials)
    if agent_id is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid token", headers={"WWW-Authenticate": "Bearer"})
    return Principal(agent_id=agent_id)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_admin(principal: PrincipalDep) -> Principal:
    if not principal.admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admin token required")
    return principal


AdminDep = Annotated[Principal, Depends(require_admin)]
