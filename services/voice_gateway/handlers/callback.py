"""Callbacks that call back: when an agent accepts a callback contact, this gateway (the
one that took the request) calls the customer through the trunk and, once they answer,
REFERs them to the agent's phone like any caller. Busy or no answer: tried again later,
up to voice_callback_attempts, then the contact is closed with the reason.

An outbound campaign's call is the same, dialled by the campaign dialler
(voice_campaign_dialer): busy, no answer or failed closes the contact with that outcome,
and the router's campaign decides when to try the customer again."""

from __future__ import annotations

import time
from typing import Any

from shared.cloudevents import Envelope
from shared.events import ContactAssigned, ContactUpdated
from shared.settings import reveal

from ..adapters import media as rtp
from ..adapters import metrics
from ..adapters.sip_transport import Peer
from ..domain import digest, outbound, sdp
from ..domain.call import Call, Phase
from . import transfer
from .deps import Live, VoiceDeps, logger

BUSY = {486, 600}
NO_ANSWER = {408, 480, 487}
CANCEL_WAIT_S = 32.0  # for the 487 after our CANCEL (Timer B)


def contact_assigned(event: Envelope, deps: VoiceDeps) -> None:
    """An assignment: a callback of ours is dialled first; a call we hold is REFERred."""
    assigned: ContactAssigned = event.data
    cb = assigned.callback
    if cb is None or assigned.contact_id in deps.by_contact or cb.gateway not in (None, deps.settings.replica):
        return transfer.contact_assigned(event, deps)
    if cb.campaign and not deps.settings.voice_campaign_dialer:
        return None  # another replica dials the campaign's calls
    if assigned.contact_id in deps.dialing:
        return  # a redelivered assignment: dialling already
    deps.dialing.add(assigned.contact_id)
    task = deps.spawn(call_back(assigned, deps))
    task.add_done_callback(lambda _: deps.dialing.discard(assigned.contact_id))


async def call_back(assigned: ContactAssigned, deps: VoiceDeps) -> None:
    """Dial; whatever goes wrong, the router hears the outcome (the agent is not left
    holding a call that never started)."""
    if not deps.settings.voice_trunk:
        return await _outcome(assigned, "failed", deps, "no trunk configured (OMNIROUTE_VOICE_TRUNK)")
    try:
        await _dial(assigned, deps)
    except Exception as exc:
        logger.exception("callback_failed", contact_id=assigned.contact_id)
        await _outcome(assigned, "failed", deps, repr(exc))


async def _dial(assigned: ContactAssigned, deps: VoiceDeps) -> None:
    cid, s, attempts = assigned.contact_id, deps.settings, assigned.callback.attempts
    peer = Peer.udp(s.voice_trunk)
    session = await rtp.open_session(deps.rtp_host, lambda digit: None, s.rtp_ports())
    call = outbound.new_call(assigned.callback.number, s.voice_trunk, deps.public_host, deps.via(peer),
                             deps.contact_uri(peer))
    offer = sdp.answer(deps.public_host, session.port, None, session_id=int(time.time()))
    logger.info("callback_dialing", contact_id=cid, call_id=call.call_id, attempt=attempts + 1)
    answer = await _ring(call, offer, peer, deps)
    if answer is not None and answer.code in digest.ANSWERS:  # the trunk asks who we are
        deps.sip.send(peer, outbound.ack_failure(call, answer))
        try:
            credentials = digest.credentials(answer, "INVITE", call.target, s.sip_auth_user,
                                             reveal(s.sip_auth_password))
        except digest.CannotAnswer as exc:
            session.close()
            return await _outcome(assigned, "failed", deps, str(exc))
        call = outbound.again(call)
        answer = await _ring(call, offer, peer, deps, credentials)
    if answer is None:
        session.close()
        return await _outcome(assigned, "no_answer", deps)
    if answer.code >= 300:
        deps.sip.send(peer, outbound.ack_failure(call, answer))
        session.close()
        kind = "busy" if answer.code in BUSY else "no_answer" if answer.code in NO_ANSWER else "failed"
        return await _outcome(assigned, kind, deps, f"{answer.code} {answer.phrase}")
    await _connect(assigned, call, answer, peer, session, deps)


async def _ring(call: outbound.Outbound, offer: bytes, peer: Peer, deps: VoiceDeps,
                credentials: tuple[str, str] | None = None) -> Any:
    """One INVITE transaction: its final answer, or None when it rang out (then CANCELled)."""
    txn = deps.sip.invite(peer, outbound.invite(call, offer, credentials=credentials), call.branch)
    try:
        answer = await txn.final(deps.settings.voice_callback_ring_s)
        if answer is None:  # rang out: stop it, and take the 487 that follows
            await deps.sip.request(peer, outbound.cancel(call), call.branch + "c")
            answer = await txn.final(CANCEL_WAIT_S)
        return answer
    finally:
        txn.close()


async def _connect(assigned: ContactAssigned, call: outbound.Outbound, answer: Any, peer: Peer,
                   session: rtp.RtpSession, deps: VoiceDeps) -> None:
    """The customer answered: confirm (ACK, along the route the answer set), then REFER
    them to the agent's phone."""
    dialog = outbound.dialog_of(call, answer)
    media = None
    try:
        media = sdp.parse_offer(answer.body) if answer.body.strip() else None
    except sdp.NotAcceptable:
        pass
    session.negotiated(media)
    live = Live(call=Call(call_id=call.call_id, ani=assigned.callback.number, dnis="", dialog=dialog, media=media,
                          local_tag=call.local_tag, invite_branch=call.branch, phase=Phase.TRANSFERRING,
                          contact_id=assigned.contact_id, acked=True, callback=True),
                peer=peer, invite=None, rtp=session, answered=True)
    deps.sip.send(deps.hop(live), outbound.ack_answer(call, dialog))
    live.established.set()
    deps.register(live)
    deps.by_contact[assigned.contact_id] = live
    metrics.CALLBACKS.labels(outcome="answered").inc()
    logger.info("callback_answered", contact_id=assigned.contact_id, call_id=call.call_id)
    await transfer.transfer(live, assigned.agent_sip_uri, deps)


async def _outcome(assigned: ContactAssigned, kind: str, deps: VoiceDeps, detail: str = "") -> None:
    """Nobody took the call: try again later, or give up after the last attempt (a
    campaign's call: closed with the outcome, its campaign decides)."""
    metrics.CALLBACKS.labels(outcome=kind).inc()
    contact_id, attempts = assigned.contact_id, assigned.callback.attempts + 1
    s = deps.settings
    meta = {"callback_attempts": attempts, "callback_last_outcome": kind, "callback_detail": detail[:200]}
    logger.info("callback_not_answered", contact_id=contact_id, outcome=kind, attempts=attempts, detail=detail)
    if assigned.callback.campaign:
        update = ContactUpdated(contact_id=contact_id, close_reason=kind, metadata=meta)
    elif attempts >= s.voice_callback_attempts or not s.voice_trunk:
        update = ContactUpdated(contact_id=contact_id, close_reason="callback_unanswered", metadata=meta)
    else:
        update = ContactUpdated(contact_id=contact_id, requeue_reason=f"callback {kind}",
                                retry_in_s=s.voice_callback_retry_s, metadata=meta)
    await deps.publisher.update_contact(update)
