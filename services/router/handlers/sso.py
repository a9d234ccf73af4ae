"""Single sign-on (OpenID Connect, authorization code with PKCE): a sign-in starts here,
comes back with a code, and ends as a session token the pages use like any bearer token.
The provider's checks (signature, issuer, audience, nonce) are the adapter's; who the
identity is here (roles, agent, domain) is the domain's."""

from __future__ import annotations

import secrets

from ..adapters.oidc import SignInFailed
from ..domain import commands as c
from ..domain import sso
from ..domain.errors import Forbidden, Invalid, NotFound, Unauthorized
from .deps import RouterDeps

SIGNIN_TTL_S = 600  # a sign-in not finished in ten minutes starts over


def _provider(deps: RouterDeps):
    if deps.sso is None:
        raise NotFound("single sign-on is not configured (OMNIROUTE_OIDC_ISSUER)")
    return deps.sso


async def begin_sign_in(msg: c.BeginSignIn, deps: RouterDeps) -> str:
    provider = _provider(deps)
    if msg.page not in sso.PAGES:
        raise Invalid(f"to: one of {', '.join(sso.PAGES)}")
    redirect_uri = deps.settings.oidc_redirect_url or msg.redirect_uri
    state, verifier, nonce = (secrets.token_urlsafe(32) for _ in range(3))
    await deps.store.begin_signin(state, {"page": msg.page, "verifier": verifier, "nonce": nonce,
                                          "redirect_uri": redirect_uri}, SIGNIN_TTL_S)
    try:
        return await provider.authorization_url(redirect_uri, state, verifier, nonce)
    except SignInFailed as exc:
        raise Unauthorized(str(exc)) from exc


async def finish_sign_in(msg: c.FinishSignIn, deps: RouterDeps) -> tuple[str, sso.Session]:
    provider = _provider(deps)
    flow = await deps.store.take_signin(msg.state)
    if flow is None:
        raise Unauthorized("this sign-in is unknown or already used: start again")
    try:
        claims = await provider.claims(flow["redirect_uri"], msg.code, flow["verifier"], flow["nonce"])
    except SignInFailed as exc:
        raise Unauthorized(str(exc)) from exc
    s = deps.settings
    return flow["page"], sso.session_of(claims, roles_claim=s.oidc_roles_claim, role_map=s.oidc_roles,
                                        agent_claim=s.oidc_agent_claim, domain_claim=s.oidc_domain_claim)


async def open_session(msg: c.OpenSession, deps: RouterDeps) -> str:
    session = msg.session
    sso.check_page(session, msg.page)
    if msg.page == "desktop" and await deps.store.get_agent(session.agent_id) is None:
        raise Forbidden(f"no agent {session.agent_id!r} here: an admin creates the profile (POST /v1/agents)")
    token = sso.mint_session_token(deps.domain)
    await deps.store.save_session(token, session.as_dict(), deps.settings.oidc_session_s)
    return token


async def end_session(msg: c.EndSession, deps: RouterDeps) -> None:
    if sso.is_session_token(msg.token):
        await deps.store.end_session(msg.token)


async def session_of(token: str, deps: RouterDeps) -> sso.Session | None:
    """The live session a token opens, if it is a session token."""
    if not sso.is_session_token(token):
        return None
    found = await deps.store.session_for(token)
    return sso.Session.from_dict(found) if found else None
