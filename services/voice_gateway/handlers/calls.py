"""INVITE, ACK, BYE and CANCEL: setting a call up and tearing it down."""

from __future__ import annotations

import asyncio
import contextlib
import time

from sipmessage import Request

from ..adapters import media as rtp
from ..adapters import metrics
from ..adapters.sip_transport import Peer
from ..domain import sdp, sip
from ..domain.call import Call, Phase
from . import ivr
from .deps import Live, VoiceDeps, logger
from .teardown import hang_up, send_bye

ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY"
SDP = "application/sdp"


async def invite(req: Request, peer: Peer, deps: VoiceDeps) -> None:
    if sip.tag_of(req.to_address):
        return reinvite(req, peer, deps)
    if req.call_id in deps.calls:  # same Call-ID, new transaction, no To tag: a loop or a fork
        return deps.sip.reply(req, peer, sip.response(req, 482, "Loop Detected"))
    received = time.monotonic()
    if not deps.admit(received):
        metrics.CALLS.labels(outcome="refused_busy").inc()
        return deps.sip.reply(req, peer, sip.response(req, 503, "Service Unavailable", headers=[("Retry-After", "5")]))
    deps.sip.reply(req, peer, sip.response(req, 100, "Trying"))
    try:
        await _set_up(req, peer, deps, received)
    except Exception as exc:  # noqa: BLE001 -- after 100 Trying every INVITE still gets a final response
        _failed_setup(req, peer, deps, exc)


def _failed_setup(req: Request, peer: Peer, deps: VoiceDeps, exc: Exception) -> None:
    live = deps.calls.get(req.call_id)
    if live is not None and live.answered:
        raise exc  # the 200 is out: the dialog's own teardown applies
    if isinstance(exc, ValueError):  # a malformed header (Contact, From...)
        code, reason, more = 400, "Bad Request", [("Warning", f'399 omniroute "{str(exc)[:120]}"')]
    elif isinstance(exc, OSError):  # no RTP port free, a socket error
        code, reason, more = 503, "Service Unavailable", [("Retry-After", "5")]
    else:
        code, reason, more = 500, "Server Internal Error", []
    logger.warning("call_setup_failed", call_id=req.call_id, code=code, error=repr(exc))
    final = sip.response(req, code, reason, to_tag=live.call.local_tag if live else None, headers=more)
    deps.sip.reply(req, peer, final)
    if live is not None:
        deps.sip.retransmit_until(live.call.invite_branch, peer, final)  # until the ACK
        deps.finish(live, "failed")


async def _set_up(req: Request, peer: Peer, deps: VoiceDeps, received: float) -> None:
    try:
        offer = sdp.parse_offer(req.body) if req.body.strip() else None
    except sdp.NotAcceptable as exc:
        return deps.sip.reply(req, peer, sip.response(
            req, 488, "Not Acceptable Here", headers=[("Warning", f'304 omniroute "{exc}"')]))
    live = await _new_call(req, peer, offer, deps)
    call = live.call
    deps.sip.reply(req, peer, _provisional(live, 180, "Ringing", deps))
    number = deps.plan.number(call.dnis)
    if number.menu:  # answer first: the IVR needs the media path
        answer(live, deps, received)
        return ivr.start_menu(live, number.menu, deps)
    if not await ivr.enqueue(live, number.choice(), deps):
        return unavailable(live, deps)
    if number.answer_after_ms:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(live.cancelled.wait(), number.answer_after_ms / 1000)
    if call.live and not live.cancelled.is_set():
        call.phase = Phase.QUEUED
        answer(live, deps, received)


async def _new_call(req: Request, peer: Peer, offer: sdp.Media | None, deps: VoiceDeps) -> Live:
    local_tag = sip.new_tag()
    dialog = sip.Dialog.from_invite(req, local_tag, deps.contact_uri(peer))
    call = Call(call_id=req.call_id, ani=req.from_address.uri.user or "", dnis=req.to_address.uri.user or req.uri.user or "",
                dialog=dialog, media=offer, local_tag=local_tag, invite_branch=sip.branch_of(req))
    live = Live(call=call, peer=peer, invite=req)
    deps.register(live)  # first: a failure below still finds it, answers and releases it
    live.rtp = await rtp.open_session(deps.rtp_host, lambda digit: ivr.digit_received(live, digit, "rtp", deps),
                                      deps.settings.rtp_ports())
    live.rtp.negotiated(offer)
    logger.info("call_offered", call_id=call.call_id, dnis=call.dnis, transport=peer.transport)
    return live


def _provisional(live: Live, code: int, reason: str, deps: VoiceDeps) -> bytes:
    return sip.response(live.invite, code, reason, to_tag=live.call.local_tag,
                        headers=[("Contact", f"<{deps.contact_uri(live.peer)}>")])


def answer(live: Live, deps: VoiceDeps, received: float | None = None) -> None:
    """200 OK with our SDP, repeated over UDP until the ACK (Timer G)."""
    call, req = live.call, live.invite
    body = sdp.answer(deps.public_host, live.rtp.port, call.media, session_id=abs(hash(call.call_id)) % 10**9)
    ok = sip.response(req, 200, "OK", to_tag=call.local_tag, body=body, content_type=SDP, headers=[
        ("Contact", f"<{deps.contact_uri(live.peer)}>"), ("Allow", ALLOW)])
    live.answered = True
    live.rtp.heard_at = time.monotonic()  # the caller's media clock starts at the answer
    deps.spawn(watch_media(live, deps))
    deps.sip.reply(req, live.peer, ok)
    deps.sip.retransmit_until(f"2xx:{call.call_id}", live.peer, ok, on_timeout=lambda: deps.spawn(_no_ack(live, deps)))
    if received is not None:
        metrics.SETUP_SECONDS.observe(time.monotonic() - received)
    if call.phase == Phase.QUEUED:
        ivr.hold(live, deps)


async def watch_media(live: Live, deps: VoiceDeps) -> None:
    """A call we hold whose caller went silent on RTP for voice_media_timeout_s (their BYE
    was lost, the phone died) or that lasted voice_max_call_s is ended by us."""
    s = deps.settings
    tick = min(5.0, s.voice_media_timeout_s / 4)
    while live.call.live:
        await asyncio.sleep(tick)
        if not live.call.live or live.call.phase not in (Phase.IVR, Phase.QUEUED) or live.call.handed_over:
            continue  # ringing, or handed over to an agent (its media goes there)
        now = time.monotonic()
        if now - live.rtp.heard_at > s.voice_media_timeout_s or now - live.call.started > s.voice_max_call_s:
            logger.warning("call_timed_out", call_id=live.call.call_id, silent_s=round(now - live.rtp.heard_at, 1))
            await hang_up(live, deps, "timed_out")
            return await send_bye(live, deps, reason='SIP;cause=408;text="no media"')


def unavailable(live: Live, deps: VoiceDeps) -> None:
    """Kafka did not take the contact: refuse the call rather than queue it nowhere."""
    refusal = sip.response(live.invite, 503, "Service Unavailable", to_tag=live.call.local_tag,
                           headers=[("Retry-After", "30")])
    deps.sip.reply(live.invite, live.peer, refusal)
    deps.sip.retransmit_until(live.call.invite_branch, live.peer, refusal)  # until the ACK
    deps.finish(live, "unavailable")


def reinvite(req: Request, peer: Peer, deps: VoiceDeps) -> None:
    """A session refresh or hold inside the dialog: keep our media as it is."""
    live = deps.in_dialog(req, peer)
    if not live:
        return deps.sip.reply(req, peer, sip.response(req, 481, "Call/Transaction Does Not Exist"))
    body = sdp.answer(deps.public_host, live.rtp.port, live.call.media, session_id=abs(hash(req.call_id)) % 10**9)
    ok = sip.response(req, 200, "OK", body=body, content_type=SDP, headers=[("Contact", f"<{deps.contact_uri(peer)}>")])
    deps.sip.reply(req, peer, ok)
    deps.sip.retransmit_until(f"2xx:{req.call_id}", peer, ok)


async def ack(req: Request, peer: Peer, deps: VoiceDeps) -> None:
    live = deps.in_dialog(req, peer)
    if not live:
        return  # an ACK for a call already gone (e.g. after 487): nothing to do
    deps.sip.stop_retransmit(f"2xx:{req.call_id}")
    live.call.acked = True
    if live.call.media is None and req.body.strip():  # delayed offer: the answer is in the ACK
        with contextlib.suppress(sdp.NotAcceptable):
            live.call.media = sdp.parse_offer(req.body)
            live.rtp.negotiated(live.call.media)
            if live.call.phase == Phase.QUEUED:
                ivr.hold(live, deps)
    live.established.set()


async def bye(req: Request, peer: Peer, deps: VoiceDeps) -> None:
    live = deps.in_dialog(req, peer)
    if not live:
        return deps.sip.reply(req, peer, sip.response(req, 481, "Call/Transaction Does Not Exist"))
    deps.sip.reply(req, peer, sip.response(req, 200, "OK"))
    await hang_up(live, deps, "hangup")


async def cancel(req: Request, peer: Peer, deps: VoiceDeps) -> None:
    live = deps.calls.get(req.call_id)
    if not live or live.call.invite_branch != sip.branch_of(req):
        return deps.sip.reply(req, peer, sip.response(req, 481, "Call/Transaction Does Not Exist"))
    deps.sip.reply(req, peer, sip.response(req, 200, "OK"))
    if live.answered:
        return  # too late: the INVITE has its final response, the caller will BYE
    live.cancelled.set()
    terminated = sip.response(live.invite, 487, "Request Terminated", to_tag=live.call.local_tag)
    deps.sip.reply(live.invite, live.peer, terminated)
    deps.sip.retransmit_until(live.call.invite_branch, live.peer, terminated)  # until the ACK
    await hang_up(live, deps, "cancelled")


async def _no_ack(live: Live, deps: VoiceDeps) -> None:
    """Timer H fired: the caller never confirmed our 200, so the dialog is dead."""
    if live.call.acked or not live.call.live:
        return
    logger.warning("call_not_acked", call_id=live.call.call_id)
    await hang_up(live, deps, "no_ack")
    await send_bye(live, deps)
