"""SIP requests in: each method to its handler, with the protocol's refusals for what
no handler takes (501 Not Implemented, 420 Bad Extension)."""

from __future__ import annotations

from sipmessage import Request

from ..adapters.sip_transport import Peer
from ..domain import sip
from ..handlers import calls, dialog
from ..handlers.deps import VoiceDeps

HANDLERS = {
    "INVITE": calls.invite, "ACK": calls.ack, "BYE": calls.bye, "CANCEL": calls.cancel,
    "OPTIONS": dialog.options, "INFO": dialog.info, "NOTIFY": dialog.notify,
}


async def dispatch(req: Request, peer: Peer, deps: VoiceDeps) -> None:
    handler = HANDLERS.get(req.method)
    if handler is None:
        return deps.sip.reply(req, peer, sip.response(req, 501, "Not Implemented", headers=[("Allow", calls.ALLOW)]))
    if req.method not in ("ACK", "CANCEL") and (required := req.require):
        return deps.sip.reply(req, peer, sip.response(req, 420, "Bad Extension", headers=[
            ("Unsupported", ", ".join(required))]))
    await handler(req, peer, deps)
