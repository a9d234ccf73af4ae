"""Route dependencies: who is calling (admin or one agent), and the message bus of the
routing domain the request acts on (its token's, or the one the Omniroute-Domain header
names: a token of another domain is refused)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.router.domain import tenancy
from services.router.domain.commands import Authenticate, Caller, IsSupervisor
from services.router.messagebus import MessageBus

bearer = HTTPBearer(auto_error=False)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
DomainHeader = Annotated[str | None, Header(alias="Omniroute-Domain", description=(
    "The routing domain to act on; by default the token's (a deployment-wide token: `default`)"))]


def bus_for(app, token: str | None, named: str | None = None) -> MessageBus:
    """The bus of the domain a request with this token acts on (404: no such domain)."""
    service = app.state.service
    return service.bus.within(tenancy.requested_domain(token, named, service.settings.domain_tokens))


async def get_caller(request: Request, creds: Credentials, domain: DomainHeader = None) -> Caller:
    if creds is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing bearer token",
                            headers={"WWW-Authenticate": "Bearer"})
    return await bus_for(request.app, creds.credentials, domain).handle(Authenticate(creds.credentials))


CallerDep = Annotated[Caller, Depends(get_caller)]


def get_bus(request: Request, caller: CallerDep) -> MessageBus:
    return request.app.state.service.bus.within(caller.domain)


BusDep = Annotated[MessageBus, Depends(get_bus)]


def require_admin(caller: CallerDep) -> Caller:
    if not caller.admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admin token required")
    return caller


AdminDep = Annotated[Caller, Depends(require_admin)]


async def require_supervisor(request: Request, creds: Credentials, domain: DomainHeader = None) -> MessageBus:
    token = creds.credentials if creds else None
    bus = bus_for(request.app, token, domain)
    if not await bus.handle(IsSupervisor(token)):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "admin or ops token required",
                            headers={"WWW-Authenticate": "Bearer"})
    return bus


SupervisorDep = Annotated[MessageBus, Depends(require_supervisor)]
