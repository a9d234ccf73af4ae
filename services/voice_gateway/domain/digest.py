"""SIP digest authentication, the client side (RFC 3261 22, RFC 2617, RFC 8760): the
credentials answering a trunk's or registrar's 401/407 challenge. Pure."""

from __future__ import annotations

import hashlib
import secrets

from sipmessage import Response
from sipmessage.auth import AuthChallenge

HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256, "SHA-512-256": lambda b: hashlib.new("sha512_256", b)}
# Which header carries the challenge, and which answers it.
ANSWERS = {401: ("WWW-Authenticate", "Authorization"), 407: ("Proxy-Authenticate", "Proxy-Authorization")}


class CannotAnswer(ValueError):
    """A challenge we can't meet (no credentials, an unknown algorithm or qop)."""


def credentials(challenged: Response, method: str, uri: str, user: str, password: str,
                cnonce: str | None = None) -> tuple[str, str]:
    """(header name, value) for the request sent again after a 401 or 407."""
    if challenged.code not in ANSWERS or not user:
        raise CannotAnswer(f"{challenged.code} {challenged.phrase}: no credentials to answer it with")
    asked, answer = ANSWERS[challenged.code]
    value = challenged.headers.get(asked)
    if not value:
        raise CannotAnswer(f"{challenged.code} without {asked}")
    challenge = AuthChallenge.parse(value)
    if challenge.scheme.lower() != "digest":
        raise CannotAnswer(f"unsupported authentication scheme {challenge.scheme!r}")
    return answer, respond(dict(challenge.parameters), method, uri, user, password, cnonce)


def respond(params: dict[str, str], method: str, uri: str, user: str, password: str,
            cnonce: str | None = None) -> str:
    algorithm = params.get("algorithm", "MD5").upper()
    if algorithm not in HASHES:
        raise CannotAnswer(f"unsupported digest algorithm {algorithm!r}")
    def h(text: str) -> str:
        return HASHES[algorithm](text.encode()).hexdigest()

    realm, nonce = params.get("realm", ""), params.get("nonce", "")
    ha1, ha2 = h(f"{user}:{realm}:{password}"), h(f"{method}:{uri}")
    fields = {"username": user, "realm": realm, "nonce": nonce, "uri": uri}
    qops = [q.strip() for q in params.get("qop", "").split(",") if q.strip()]
    if qops:
        if "auth" not in qops:
            raise CannotAnswer(f"unsupported qop {params['qop']!r}")
        cnonce, nc = cnonce or secrets.token_hex(8), "00000001"
        fields["response"] = h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        fields |= {"cnonce": cnonce, "nc": nc, "qop": "auth"}
    else:
        fields["response"] = h(f"{ha1}:{nonce}:{ha2}")
    fields["algorithm"] = algorithm
    if "opaque" in params:
        fields["opaque"] = params["opaque"]
    unquoted = {"nc", "qop", "algorithm"}
    return "Digest " + ", ".join(f"{k}={v}" if k in unquoted else f'{k}="{v}"' for k, v in fields.items())
