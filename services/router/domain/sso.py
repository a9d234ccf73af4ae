"""Single sign-on: who an OpenID Connect identity is here. Pure: the claims of a
validated ID token in, a session (roles, agent id, routing domain) out.

Roles: `agent` works contacts on the desktop as the agent the agent claim names;
`supervisor` does that and sees the ops page; `ops` sees the ops page only; `admin` is
the admin token's power (the admin API and the ops page)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.events import DEFAULT_DOMAIN, DOMAIN_PATTERN

from .errors import Forbidden

ROLES = ("agent", "supervisor", "ops", "admin")
DESK_ROLES = frozenset({"agent", "supervisor"})
OPS_ROLES = frozenset({"supervisor", "ops", "admin"})
PAGES = ("desktop", "ops")
MARK = "sso"  # a session token is `<domain>.sso.<secret>`; an agent's is `<domain>.<secret>`


@dataclass(frozen=True)
class Session:
    subject: str
    roles: frozenset[str]
    agent_id: str | None = None
    domain: str = DEFAULT_DOMAIN

    @property
    def admin(self) -> bool:
        return "admin" in self.roles

    @property
    def acts_as(self) -> str | None:
        """The agent this session works as: only with a desk role (an ops user's name
        is not an agent's)."""
        return self.agent_id if self.roles & DESK_ROLES else None

    @property
    def sees_ops(self) -> bool:
        return bool(self.roles & OPS_ROLES)

    def as_dict(self) -> dict:
        return {"subject": self.subject, "roles": sorted(self.roles), "agent_id": self.agent_id, "domain": self.domain}

    @classmethod
    def from_dict(cls, d: Mapping) -> Session:
        return cls(d["subject"], frozenset(d["roles"]), d.get("agent_id"), d.get("domain", DEFAULT_DOMAIN))


def mint_session_token(domain: str) -> str:
    return f"{domain}.{MARK}.{secrets.token_urlsafe(32)}"


def is_session_token(token: str | None) -> bool:
    return bool(token) and token.split(".")[1:2] == [MARK]


def claim(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by dotted path (`realm_access.roles`, as Keycloak nests them)."""
    value: Any = claims
    for part in path.split(".") if path else ():
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def roles_of(value: Any, role_map: Mapping[str, str]) -> frozenset[str]:
    """The provider's roles (a list, or a space-separated string) as ours; unmapped ones
    are ignored. Without a map, our role names are taken as they are."""
    names = value.split() if isinstance(value, str) else value if isinstance(value, list) else []
    mapping = role_map or {r: r for r in ROLES}
    return frozenset(mapping[n] for n in names if isinstance(n, str) and n in mapping)


def session_of(claims: Mapping[str, Any], *, roles_claim: str, role_map: Mapping[str, str],
               agent_claim: str, domain_claim: str = "") -> Session:
    """The session an identity gets (Forbidden: it has no role here)."""
    roles = roles_of(claim(claims, roles_claim), role_map)
    if not roles:
        raise Forbidden(f"your account has no Omniroute role (claim {roles_claim!r})")
    agent = claim(claims, agent_claim)
    domain = claim(claims, domain_claim) if domain_claim else DEFAULT_DOMAIN
    if not isinstance(domain, str) or not DOMAIN_PATTERN.match(domain):
        raise Forbidden(f"claim {domain_claim!r} does not name a routing domain")
    return Session(str(claims.get("sub", "")), roles, agent if isinstance(agent, str) and agent else None, domain)


def check_page(session: Session, page: str) -> None:
    """May this session open the page it signed in for? (Forbidden says why not.)"""
    if page == "ops" and not session.sees_ops:
        raise Forbidden("the ops page is for supervisors, ops and admins; your roles: " + _listed(session))
    if page == "desktop":
        if not session.roles & DESK_ROLES:
            raise Forbidden("the desktop is for agents and supervisors; your roles: " + _listed(session))
        if session.agent_id is None:
            raise Forbidden("your account names no agent id")


def _listed(session: Session) -> str:
    return ", ".join(sorted(session.roles))
