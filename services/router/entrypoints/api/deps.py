"""Route dependencies: the message bus, and who is calling (admin or one agent)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.router.domain.commands import Authenticate, Caller, IsSupervisor
from services.router.messagebus import MessageBus

bearer = HTTPBearer(auto_error=False)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def get_bus(request: Request) -> MessageBus:
    return request.app.state.service.bus


BusDep = Annotated[MessageBus, Depends(get_bus)]


async def get_caller(bus: BusDep, creds: Credentials) -> Caller:
    if creds is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing bearer token",
                            headers={"WWW-Authenticate": "Bearer"})
    return await bus.handle(Authenticate(creds.credentials))


CallerDep = Annotated[Caller, Depends(get_caller)]


def require_admin(caller: CallerDep) -> Caller:
    if not caller.admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admin token required")
    return caller


AdminDep = Annotated[Caller, Depends(require_admin)]


async def require_supervisor(bus: BusDep, creds: Credentials) -> MessageBus:
    if not await bus.handle(IsSupervisor(creds.credentials if creds else None)):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "admin or ops token required",
                            headers={"WWW-Authenticate": "Bearer"})
    return bus


SupervisorDep = Annotated[MessageBus, Depends(require_supervisor)]
