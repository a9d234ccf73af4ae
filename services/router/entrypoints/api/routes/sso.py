"""Single sign-on for people (OpenID Connect): /auth/login sends the browser to the
provider, /auth/callback brings it back and hands the page its session token in the URL
fragment (never sent to a server, cleared by the page), /auth/logout ends it."""

from __future__ import annotations

import html
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse

from services.router.domain import commands as c
from services.router.domain.errors import RoutingError
from services.router.entrypoints.pages import message_page

from ..deps import Credentials, bus_for
from ..errors import status_of

pages = APIRouter(prefix="/auth", include_in_schema=False)
LANDING = {"desktop": "/desktop", "ops": "/ops"}


def _bus(request: Request):
    return request.app.state.service.bus


def _refused(exc: RoutingError, page: str = "desktop") -> HTMLResponse:
    again = f'<p><a href="/auth/login?to={page}">Sign in again</a></p>'
    return message_page("Not signed in", f"<p>{html.escape(str(exc))}</p>{again}", status_of(exc))


@pages.get("/sso")
async def sso_enabled(request: Request) -> dict:
    """Whether the pages offer single sign-on."""
    return {"enabled": _bus(request).deps.sso is not None}


@pages.get("/login", response_model=None)
async def login(request: Request, to: str = "desktop") -> Response:
    try:
        url = await _bus(request).handle(c.BeginSignIn(to, str(request.url_for("sso_callback"))))
    except RoutingError as exc:
        return _refused(exc, to if to in LANDING else "desktop")
    return RedirectResponse(url, status.HTTP_303_SEE_OTHER)


@pages.get("/callback", name="sso_callback", response_model=None)
async def callback(request: Request, state: str = "", code: str = "", error: str = "",
                   error_description: str = "") -> Response:
    bus = _bus(request)
    if error:  # the provider refused (the user cancelled, or may not use this client)
        return message_page("Not signed in", f"<p>{html.escape(error_description or error)}</p>",
                            status.HTTP_401_UNAUTHORIZED)
    page = "desktop"
    try:
        page, session = await bus.handle(c.FinishSignIn(state, code))
        token = await bus.within(session.domain).handle(c.OpenSession(session, page))
    except RoutingError as exc:
        return _refused(exc, page)
    fragment = {"ops": {"token": token}, "desktop": {"agent": session.agent_id, "session": token}}[page]
    return RedirectResponse(f"{LANDING[page]}#{urlencode(fragment)}", status.HTTP_303_SEE_OTHER)


@pages.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request, creds: Credentials) -> None:
    if creds is not None:
        await bus_for(request.app, creds.credentials).handle(c.EndSession(creds.credentials))
