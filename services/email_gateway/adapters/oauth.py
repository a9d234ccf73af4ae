"""OAuth 2 access tokens for XOAUTH2 (Microsoft 365, Google: mailboxes without
passwords): one given as is, or one got from a refresh token at the provider's token
endpoint (Authlib's client) and used until shortly before it expires."""

from __future__ import annotations

import asyncio
import time

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.httpx_client import AsyncOAuth2Client
import httpx

EARLY_S = 60  # a token this close to its expiry is renewed first


class TokenUnavailable(ConnectionError):
    """The provider did not give a token: the mailbox is tried again later."""


class AccessTokens:
    def __init__(self, token: str = "", token_url: str = "", client_id: str = "", client_secret: str | None = None,
                 refresh_token: str = "", scope: str = "", timeout_s: float = 10.0):
        self.static, self.token_url, self.refresh = token, token_url, refresh_token
        self.client_id, self.client_secret, self.scope, self.timeout_s = client_id, client_secret, scope, timeout_s
        self._token, self._expires, self._lock = "", 0.0, asyncio.Lock()
        self.renewals = 0

    @property
    def configured(self) -> bool:
        return bool(self.static or (self.token_url and self.refresh))

    async def get(self) -> str:
        if self.static:
            return self.static
        async with self._lock:  # one renewal at a time: IMAP and the relay share it
            if not self._token or time.monotonic() > self._expires - EARLY_S:
                await self._renew()
            return self._token

    async def _renew(self) -> None:
        client = AsyncOAuth2Client(self.client_id, self.client_secret, scope=self.scope or None,
                                   timeout=self.timeout_s, trust_env=False,
                                   token_endpoint_auth_method="client_secret_post" if self.client_secret else "none")
        try:
            async with client:
                answer = await client.refresh_token(self.token_url, refresh_token=self.refresh)
        except (AuthlibBaseError, httpx.HTTPError) as exc:
            raise TokenUnavailable(f"no access token from {self.token_url}: {exc}") from exc
        self._token = answer["access_token"]
        self._expires = time.monotonic() + float(answer.get("expires_in") or 3600)
        if answer.get("refresh_token"):  # the provider rotated it (Microsoft does)
            self.refresh = answer["refresh_token"]
        self.renewals += 1
