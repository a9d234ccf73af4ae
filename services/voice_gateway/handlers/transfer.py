"""Assignment: a blind transfer of the caller to the agent's phone (REFER, RFC 3515),
followed through NOTIFY; a failed transfer puts the contact back at its place.

The gateway keeps the caller's dialog while the agent has the call: an agent's transfer
(contact.transferred) puts it back on hold, and the next assignment REFERs the caller to
the next agent's phone; the contact's completion ends it (BYE)."""

from __future__ import annotations

import asyncio
import contextlib

from shared.cloudevents import Envelope
from shared.events import ContactAssigned, ContactTransferred, ContactUpdated

from ..adapters import metrics
from ..domain.call import Phase
from .deps import Live, VoiceDeps, logger
from .ivr import hold
from .teardown import send_bye

ESTABLISH_TIMEOUT_S = 10.0  # an answered call's ACK; REFER needs a confirmed dialog


def contact_assigned(event: Envelope, deps: VoiceDeps) -> None:
    assigned: ContactAssigned = event.data
    live = deps.by_contact.get(assigned.contact_id)
    if live is None or live.call.phase != Phase.QUEUED:
        return  # not ours, or a duplicate
    live.call.phase = Phase.TRANSFERRING
    deps.spawn(transfer(live, assigned.agent_sip_uri, deps))


async def transfer(live: Live, agent_uri: str | None, deps: VoiceDeps) -> None:
    if not agent_uri:
        return await _failed(live, "agent has no SIP URI", deps)
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(live.established.wait(), ESTABLISH_TIMEOUT_S)
    if not live.call.live:
        return
    if not live.established.is_set():
        return await _failed(live, "call not established", deps)
    live.transfer = asyncio.get_running_loop().create_future()
    hop = deps.hop(live)
    data, branch = live.call.dialog.request("REFER", deps.via(hop), headers=[
        ("Refer-To", f"<{agent_uri}>"), ("Referred-By", f"<{deps.contact_uri(live.peer)}>")])
    logger.info("transfer_started", call_id=live.call.call_id, contact_id=live.call.contact_id, to=agent_uri)
    reply = await deps.sip.request(hop, data, branch)
    if not live.call.live:
        return
    if reply is None or reply.code >= 300:
        return await _failed(live, f"REFER {'timed out' if reply is None else f'answered {reply.code}'}", deps)
    try:
        status = await asyncio.wait_for(asyncio.shield(live.transfer), deps.settings.voice_transfer_timeout_s)
    except asyncio.TimeoutError:
        return await _failed(live, "no final NOTIFY for the transfer", deps)
    except asyncio.CancelledError:
        return  # the caller hung up meanwhile
    if 200 <= status < 300:
        metrics.TRANSFERS.labels(result="ok").inc()
        live.call.phase, live.call.handed_over = Phase.CONNECTED, True
        if live.rtp:
            live.rtp.stop_playing()
        logger.info("transfer_done", call_id=live.call.call_id, contact_id=live.call.contact_id, to=agent_uri)
    else:
        await _failed(live, f"agent phone answered {status}", deps)


async def _failed(live: Live, reason: str, deps: VoiceDeps) -> None:
    if not live.call.live:
        return
    metrics.TRANSFERS.labels(result="failed").inc()
    logger.warning("transfer_failed", call_id=live.call.call_id, contact_id=live.call.contact_id, reason=reason)
    live.call.phase = Phase.QUEUED
    live.transfer = None
    await deps.publisher.update_contact(ContactUpdated(contact_id=live.call.contact_id, requeue_reason=reason[:200]))


def contact_transferred(event: Envelope, deps: VoiceDeps) -> None:
    """The agent handed the contact on: the caller is ours to move again (on hold until
    the next assignment REFERs them)."""
    moved: ContactTransferred = event.data
    live = deps.by_contact.get(moved.contact_id)
    if live is None or live.call.phase != Phase.CONNECTED:
        return
    live.call.phase = Phase.QUEUED
    hold(live, deps)


def contact_completed(event: Envelope, deps: VoiceDeps) -> None:
    """The agent completed the contact: the gateway leaves the call (RFC 5589: the
    transferor leaves once the transfer is done)."""
    live = deps.by_contact.get(event.data.contact_id)
    if live is None or live.call.phase != Phase.CONNECTED:
        return
    deps.finish(live, "transferred")
    deps.spawn(send_bye(live, deps))


def notify_status(live: Live, status: int) -> None:
    if status >= 200 and live.transfer and not live.transfer.done():
        live.transfer.set_result(status)
