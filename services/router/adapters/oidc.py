"""The OpenID Connect provider, as a relying party sees it: discovery, the
authorization-code flow with PKCE (Authlib's OAuth 2 client, over httpx) and the ID
token checked against the provider's published keys (joserfc)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA")
DISCOVERY_TTL_S = 3600  # keys rotate: discovery and keys are fetched again after this


class SignInFailed(Exception):
    """The provider refused, or its answer could not be trusted."""


@dataclass
class OidcProvider:
    issuer: str
    client_id: str
    client_secret: str | None
    scopes: str
    timeout_s: float
    _meta: dict = field(default_factory=dict)
    _keys: KeySet | None = None
    _fetched: float = 0.0

    def _client(self, redirect_uri: str) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            self.client_id, self.client_secret, scope=self.scopes, redirect_uri=redirect_uri,
            code_challenge_method="S256", timeout=self.timeout_s, trust_env=False,
            token_endpoint_auth_method="client_secret_basic" if self.client_secret else "none")

    async def _discover(self, refresh: bool = False) -> dict:
        if refresh or not self._meta or time.monotonic() - self._fetched > DISCOVERY_TTL_S:
            try:
                async with httpx.AsyncClient(timeout=self.timeout_s, trust_env=False) as http:
                    url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
                    meta = (await http.get(url)).raise_for_status().json()
                    if meta.get("issuer") != self.issuer:
                        raise SignInFailed(f"the provider calls itself {meta.get('issuer')!r}, not {self.issuer!r}")
                    keys = KeySet.import_key_set((await http.get(meta["jwks_uri"])).raise_for_status().json())
            except (httpx.HTTPError, KeyError, ValueError, JoseError) as exc:
                raise SignInFailed(f"the sign-in provider cannot be reached or read: {exc!r}") from exc
            self._meta, self._keys, self._fetched = meta, keys, time.monotonic()
        return self._meta

    async def authorization_url(self, redirect_uri: str, state: str, verifier: str, nonce: str) -> str:
        meta = await self._discover()
        async with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(meta["authorization_endpoint"], state=state,
                                                     code_verifier=verifier, nonce=nonce)
        return url

    async def claims(self, redirect_uri: str, code: str, verifier: str, nonce: str) -> dict[str, Any]:
        """Trade the code for tokens; the ID token's claims (and userinfo's, which add to
        them), once its signature, issuer, audience, expiry and nonce hold."""
        meta = await self._discover()
        try:
            async with self._client(redirect_uri) as client:
                tokens = await client.fetch_token(meta["token_endpoint"], code=code, code_verifier=verifier)
                claims = await self._verified(tokens.get("id_token", ""), nonce)
                if meta.get("userinfo_endpoint"):
                    info = (await client.get(meta["userinfo_endpoint"])).raise_for_status().json()
                    if info.get("sub") == claims["sub"]:  # OIDC Core 5.3.2: else it is not theirs
                        claims = {**info, **claims}
        except (AuthlibBaseError, httpx.HTTPError) as exc:
            raise SignInFailed(f"the provider refused the sign-in: {exc}") from exc
        return claims

    async def _verified(self, id_token: str, nonce: str) -> dict[str, Any]:
        if not id_token:
            raise SignInFailed("the provider sent no ID token")
        try:
            try:
                token = jwt.decode(id_token, self._keys, algorithms=ALGORITHMS)
            except JoseError:  # perhaps signed with a key published since: look once more
                await self._discover(refresh=True)
                token = jwt.decode(id_token, self._keys, algorithms=ALGORITHMS)
            jwt.JWTClaimsRegistry(
                leeway=60, iss={"essential": True, "value": self.issuer}, sub={"essential": True},
                aud={"essential": True, "value": self.client_id}, exp={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(token.claims)
        except JoseError as exc:
            raise SignInFailed(f"the ID token is not valid: {exc}") from exc
        return dict(token.claims)
