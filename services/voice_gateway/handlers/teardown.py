"""Ending a call: the caller left (an abandonment while queued), or we hang up."""

from __future__ import annotations

import asyncio

from shared.consumer_loop import is_transient

from ..domain.call import Phase, abandons
from .deps import Live, VoiceDeps, logger


async def hang_up(live: Live, deps: VoiceDeps, outcome: str) -> None:
    """The caller left. Waiting in the queue, that is an abandonment (contact.ended)."""
    call = live.call
    if not call.live:
        return
    leaving = abandons(call)
    deps.finish(live, "abandoned" if leaving and call.phase != Phase.TRANSFERRING else outcome)
    if leaving:  # beside the SIP handler: Kafka may be away for a while
        deps.spawn(tell_router_caller_left(deps, call.contact_id))


async def tell_router_caller_left(deps: VoiceDeps, contact_id: str) -> None:
    """contact.ended until Kafka has it: a caller who hung up is never left queued."""
    delay = 0.2
    while True:
        try:
            await deps.publisher.end_contact(contact_id, "customer_left")
            return
        except Exception as exc:
            if not is_transient(exc):
                raise
            logger.warning("contact_ended_retry", contact_id=contact_id, error=repr(exc), retry_in=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def send_bye(live: Live, deps: VoiceDeps, reason: str | None = None) -> None:
    """`reason`: a Reason header value (RFC 3326) telling the caller's phone why."""
    hop = deps.hop(live)
    data, branch = live.call.dialog.request("BYE", deps.via(hop), headers=[("Reason", reason)] if reason else ())
    await deps.sip.request(hop, data, branch)
