"""Tenancy: which routing domain a caller acts on, and whether its token may.

A domain's agent tokens carry the domain's name (`<domain>.<secret>`); static tokens are
either deployment-wide (admin, ops: any domain, named by the request) or scoped to one
domain (`OMNIROUTE_DOMAIN_TOKENS`). A token never reaches another domain's data: the
request is refused (403) or finds nothing there (404)."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping

from pydantic import SecretStr

from shared.events import DEFAULT_DOMAIN, DOMAIN_PATTERN

from .errors import Forbidden

SEPARATOR = "."  # never in a domain name


def same(token: str | None, expected: str | SecretStr | None) -> bool:
    """Constant-time comparison (as bytes: any token)."""
    if isinstance(expected, SecretStr):
        expected = expected.get_secret_value()
    return bool(token and expected) and hmac.compare_digest(token.encode(), expected.encode())


def mint_agent_token(domain: str) -> str:
    return f"{domain}{SEPARATOR}{secrets.token_urlsafe(24)}"


def agent_token_domain(token: str) -> str | None:
    """The domain an agent token names (older, unprefixed tokens: none)."""
    head, sep, _ = token.partition(SEPARATOR)
    return head if sep and DOMAIN_PATTERN.match(head) else None


def scoped_domain(token: str | None, scoped: Mapping[str, Mapping[str, SecretStr | str | None]], kinds: tuple[str, ...]) -> str | None:
    """The domain whose scoped token of one of `kinds` ("admin", "ops") this is."""
    found = None
    for domain, tokens in scoped.items():  # every one compared: no early exit to time
        if any(same(token, tokens.get(kind)) for kind in kinds):
            found = domain
    return found


def requested_domain(token: str | None, named: str | None,
                     scoped: Mapping[str, Mapping[str, SecretStr | str | None]]) -> str:
    """The domain a request acts on: the one it names, else its token's, else the default."""
    if named:
        return named
    if token:
        return scoped_domain(token, scoped, ("admin", "ops")) or agent_token_domain(token) or DEFAULT_DOMAIN
    return DEFAULT_DOMAIN


def check_scope(owner: str | None, domain: str) -> None:
    """A token scoped to `owner` may act on that domain only."""
    if owner is not None and owner != domain:
        raise Forbidden(f"this token acts on routing domain {owner!r} only")
