"""Staying registered with the registrar (a PBX or proxy that routes the center's number
to this gateway): REGISTER, answer its digest challenge, renew before the binding
expires; a failure is tried again soon, and logged, never fatal."""

from __future__ import annotations

import time
from dataclasses import dataclass

from shared.settings import reveal

from ..adapters import metrics
from ..adapters.sip_transport import Peer
from ..domain import digest
from ..domain.register import Registration
from .deps import VoiceDeps, logger

RENEW_AT = 0.8  # of the granted time
RETRY_S = 15.0


@dataclass
class Binding:
    registration: Registration
    peer: Peer
    due: float = 0.0  # monotonic time of the next REGISTER
    registered: bool = False


def binding(deps: VoiceDeps) -> Binding | None:
    s = deps.settings
    if not s.sip_registrar:
        return None
    peer = Peer.udp(s.sip_registrar)
    return Binding(Registration(s.sip_registrar, s.sip_register_user, deps.contact_uri(peer), s.sip_register_expires_s),
                   peer)


async def refresh(b: Binding, deps: VoiceDeps) -> None:
    """Register when due (a timer's step: cheap when not)."""
    if time.monotonic() < b.due:
        return
    try:
        granted = await register(b, deps)
    except (RegistrationFailed, digest.CannotAnswer) as exc:
        b.registered, b.due = False, time.monotonic() + RETRY_S
        metrics.REGISTERED.set(0)
        logger.warning("sip_register_failed", registrar=b.registration.registrar, error=str(exc), retry_in=RETRY_S)
        return
    if not b.registered:
        logger.info("sip_registered", registrar=b.registration.registrar, aor=b.registration.aor, expires=granted)
    b.registered, b.due = True, time.monotonic() + max(granted * RENEW_AT, 1.0)
    metrics.REGISTERED.set(1)


class RegistrationFailed(Exception):
    pass


async def register(b: Binding, deps: VoiceDeps, expires_s: int | None = None) -> int:
    """One REGISTER, answering a challenge once; the time granted."""
    reg, s = b.registration, deps.settings
    data, branch = reg.request(deps.via(b.peer), expires_s=expires_s)
    reply = await deps.sip.request(b.peer, data, branch)
    if reply is not None and reply.code in digest.ANSWERS:
        credentials = digest.credentials(reply, "REGISTER", reg.uri, s.sip_auth_user, reveal(s.sip_auth_password))
        data, branch = reg.request(deps.via(b.peer), credentials, expires_s)
        reply = await deps.sip.request(b.peer, data, branch)
    if reply is None:
        raise RegistrationFailed("the registrar did not answer")
    if reply.code >= 300:
        raise RegistrationFailed(f"{reply.code} {reply.phrase}")
    return reg.granted(reply)
