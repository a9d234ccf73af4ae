"""The OAuth 2 authority of the XOAUTH2 tests, as Microsoft's or Google's is to a
mailbox: it turns the gateway's refresh token into access tokens (RFC 6749 6) and
answers dovecot's token introspection (RFC 7662) for them. Access tokens are random and
short-lived, so a mailbox signed in with one proves the refresh flow ran."""

from __future__ import annotations

import secrets
import time
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN = "omniroute-mail", "mail-client-secret", "refresh-for-support"


class Authority:
    def __init__(self, user: str, lifetime_s: int = 600):
        self.user, self.lifetime_s = user, lifetime_s
        self.issued: dict[str, float] = {}  # access token -> expiry
        self.introspected: list[str] = []
        self.app = Starlette(routes=[Route("/token", self.token, methods=["POST"]),
                                     Route("/introspect", self.introspect, methods=["POST"])])

    async def token(self, request: Request) -> JSONResponse:
        form = await _form(request)
        if (form.get("grant_type"), form.get("refresh_token")) != ("refresh_token", REFRESH_TOKEN):
            return JSONResponse({"error": "invalid_grant"}, 400)
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return JSONResponse({"error": "invalid_client"}, 401)
        token = secrets.token_urlsafe(24)
        self.issued[token] = time.time() + self.lifetime_s
        return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": self.lifetime_s})

    async def introspect(self, request: Request) -> JSONResponse:
        token = (await _form(request)).get("token", "")
        self.introspected.append(token)
        if self.issued.get(token, 0) < time.time():
            return JSONResponse({"active": False})
        return JSONResponse({"active": True, "username": self.user})


async def _form(request: Request) -> dict[str, str]:
    return dict(parse_qsl((await request.body()).decode()))
