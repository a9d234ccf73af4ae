"""IVR menus, queueing a call as a contact, hold audio and callbacks."""

from __future__ import annotations

import asyncio
import uuid

from shared.cloudevents import Envelope
from shared.events import (
    VOICE,
    ContactCreated,
    ContactOverflowed,
    ContactUpdated,
    Customer,
    utcnow,
)

from ..adapters import metrics
from ..domain.call import Phase
from ..domain.dialplan import Choice, customer_id
from .deps import Live, VoiceDeps, logger
from .teardown import hang_up, send_bye


def start_menu(live: Live, menu: str, deps: VoiceDeps) -> None:
    """Wait for a digit in `menu`; silence goes to the menu's default (the queue)."""
    live.call.phase, live.call.menu = Phase.IVR, menu
    if live.timer:
        live.timer.cancel()
    live.timer = deps.spawn(_menu_timeout(live, menu, deps))


async def _menu_timeout(live: Live, menu: str, deps: VoiceDeps) -> None:
    await asyncio.sleep(deps.plan.timeout_s(menu))
    async with live.lock:
        if live.call.phase == Phase.IVR and live.call.menu == menu:
            live.timer = None
            await _queue_answered(live, deps.plan.silence(menu), deps)


def digit_received(live: Live, digit: str, via: str, deps: VoiceDeps) -> None:
    metrics.DIGITS.labels(via=via).inc()
    deps.spawn(on_digit(live, digit, deps))


async def on_digit(live: Live, digit: str, deps: VoiceDeps) -> None:
    async with live.lock:
        call = live.call
        logger.info("dtmf", call_id=call.call_id, digit=digit, phase=call.phase)
        if call.phase == Phase.IVR:
            call.digits += digit
            target = deps.plan.press(call.menu, digit)
            if target.menu:
                return start_menu(live, target.menu, deps)
            if live.timer:
                live.timer.cancel()
                live.timer = None
            await _queue_answered(live, target.choice(), deps)
        elif call.phase == Phase.QUEUED and digit == deps.plan.callback_digit:
            await request_callback(live, deps)


async def _queue_answered(live: Live, choice: Choice, deps: VoiceDeps) -> None:
    """Queue a call that is already answered (it left the IVR)."""
    if await enqueue(live, choice, deps):
        live.call.phase = Phase.QUEUED
        hold(live, deps)
    else:

        await hang_up(live, deps, "unavailable")
        await send_bye(live, deps)


async def enqueue(live: Live, choice: Choice, deps: VoiceDeps) -> bool:
    """Publish contact.created and wait for Kafka's ack (the SIP answer depends on it)."""
    call = live.call
    cid = f"v-{uuid.uuid4().hex}"
    contact = ContactCreated(
        id=cid, channel=VOICE, intent=choice.intent, queue=choice.queue,
        customer=Customer(id=customer_id(call.ani), address=call.ani[:320]),
        metadata={"ani": call.ani, "dnis": call.dnis, "sip_call_id": call.call_id[:200], "ivr_digits": call.digits},
    )
    call.contact_id, call.choice = cid, choice
    deps.by_contact[cid] = live
    try:
        await asyncio.wait_for(deps.publisher.submit_contact(contact), deps.settings.voice_submit_timeout_s)
    except Exception:
        logger.exception("contact_not_submitted", call_id=call.call_id, contact_id=cid)
        deps.by_contact.pop(cid, None)
        call.contact_id = None
        return False
    logger.info("call_queued", call_id=call.call_id, contact_id=cid, intent=choice.intent, queue=choice.queue)
    if not call.live:  # the caller hung up while Kafka was acknowledging
        await deps.publisher.end_contact(cid, "customer_left")
    return True


def hold(live: Live, deps: VoiceDeps) -> None:
    media = live.call.media
    if deps.hold_audio and media and live.rtp:
        live.rtp.play(deps.hold_audio, media.codec_pt)


async def request_callback(live: Live, deps: VoiceDeps, reason: str | None = None) -> None:
    """The caller asked to be called back: the contact keeps its place in the queue
    (no contact.ended), the agent gets the number in the contact's metadata. `reason`:
    the router took the call out of the queue (overflow), said in the BYE (RFC 3326)."""

    call = live.call
    call.callback = True
    await deps.publisher.update_contact(ContactUpdated(contact_id=call.contact_id, metadata={
        "callback": True, "callback_number": call.ani, "callback_requested_at": utcnow().isoformat(),
        "callback_gateway": deps.settings.replica, **({"callback_reason": reason} if reason else {})}))
    deps.finish(live, "callback")
    await send_bye(live, deps, reason=f'SIP;cause=480;text="{reason}"' if reason else None)


def contact_overflowed(event: Envelope, deps: VoiceDeps) -> None:
    """The queue was full or the wait too long: the caller's number is kept as a callback
    request and the call ends, saying why (beside the consumer loop)."""
    o: ContactOverflowed = event.data
    live = deps.by_contact.get(o.contact_id)
    if live is None or live.call.phase != Phase.QUEUED or not live.call.live:
        return  # not ours, a duplicate, or already gone
    deps.spawn(request_callback(live, deps, reason=f"all agents busy ({o.reason}): we will call you back"))

