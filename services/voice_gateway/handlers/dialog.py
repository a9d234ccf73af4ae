"""The small in-dialog requests: OPTIONS, INFO, NOTIFY."""

from __future__ import annotations

from sipmessage import Request

from ..adapters.sip_transport import Peer
from ..domain import dtmf, sip
from . import calls, ivr, transfer
from .deps import VoiceDeps

ACCEPT = "application/sdp, application/dtmf-relay, application/dtmf, message/sipfrag"
NO_DIALOG = (481, "Call/Transaction Does Not Exist")


async def options(req: Request, peer: Peer, deps: VoiceDeps) -> None:
    deps.sip.reply(req, peer, sip.response(req, 200, "OK", headers=[("Allow", calls.ALLOW), ("Accept", ACCEPT)]))


async def info(req: Request, peer: Peer, deps: VoiceDeps) -> None:
    live = deps.in_dialog(req, peer)
    if not live:
        return deps.sip.reply(req, peer, sip.response(req, *NO_DIALOG))
    if not req.body.strip():  # an empty INFO is a keep-alive
        return deps.sip.reply(req, peer, sip.response(req, 200, "OK"))
    try:
        digit = dtmf.info_digit(req.headers.get("Content-Type", ""), req.body)
    except ValueError as exc:
        return deps.sip.reply(req, peer, sip.response(req, 415, "Unsupported Media Type", headers=[
            ("Accept", "application/dtmf-relay, application/dtmf"), ("Warning", f'399 omniroute "{exc}"')]))
    deps.sip.reply(req, peer, sip.response(req, 200, "OK"))
    ivr.digit_received(live, digit, "info", deps)


async def notify(req: Request, peer: Peer, deps: VoiceDeps) -> None:
    """Progress of our REFER (RFC 3515): message/sipfrag with the agent leg's status."""
    live = deps.in_dialog(req, peer)
    if not live or live.transfer is None:
        return deps.sip.reply(req, peer, sip.response(req, *NO_DIALOG))
    try:
        status = sip.parse_sipfrag(req.body)
    except sip.BadMessage as exc:
        return deps.sip.reply(req, peer, sip.response(req, 400, "Bad Request", headers=[
            ("Warning", f'399 omniroute "{exc}"')]))
    deps.sip.reply(req, peer, sip.response(req, 200, "OK"))
    transfer.notify_status(live, status)
