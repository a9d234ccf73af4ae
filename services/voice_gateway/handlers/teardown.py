"""Ending a call: the caller left (an abandonment while queued), or we hang up."""

from __future__ import annotations

from ..domain.call import Phase, abandons
from .deps import Live, VoiceDeps


async def hang_up(live: Live, deps: VoiceDeps, outcome: str) -> None:
    """The caller left. Waiting in the queue, that is an abandonment (contact.ended)."""
    call = live.call
    if not call.live:
        return
    leaving = abandons(call)
    deps.finish(live, "abandoned" if leaving and call.phase != Phase.TRANSFERRING else outcome)
    if leaving:
        await deps.publisher.end_contact(call.contact_id, "customer_left")


async def send_bye(live: Live, deps: VoiceDeps) -> None:
    data, branch = live.call.dialog.request("BYE", deps.via(live.peer))
    await deps.sip.request(live.peer, data, branch)
