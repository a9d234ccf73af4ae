"""A call to a closed queue (contact.deferred): the caller hears why (the BYE's Reason,
RFC 3326) and, with voicemail on, may leave a message first; with their number the
contact becomes a callback at the opening, with a voicemail it waits as one."""

from __future__ import annotations

import asyncio
import contextlib

from shared.cloudevents import Envelope
from shared.events import ContactDeferred, ContactUpdated, utcnow

from ..domain import wav
from ..domain.call import Phase
from ..domain.dialplan import ANONYMOUS, customer_id
from .deps import Live, VoiceDeps, logger
from .ivr import request_callback
from .teardown import send_bye


def contact_deferred(event: Envelope, deps: VoiceDeps) -> None:
    d: ContactDeferred = event.data
    live = deps.by_contact.get(d.contact_id)
    if live is None or live.call.phase != Phase.QUEUED or not live.call.live:
        return
    known = customer_id(live.call.ani) != ANONYMOUS
    if d.action == "callback" and deps.settings.voice_voicemail_dir and live.call.media:
        return deps.spawn(voicemail(live, deps, d.hours, known))
    if d.action == "callback" and known:
        return deps.spawn(request_callback(live, deps, reason=f"we are closed ({d.hours}): we will call you back"))
    deps.spawn(_goodbye(live, deps, d.hours))


async def _goodbye(live: Live, deps: VoiceDeps, hours: str) -> None:
    """Nobody to call back: say so and end the contact."""
    contact_id = live.call.contact_id
    deps.finish(live, "closed")
    await send_bye(live, deps, reason=f'SIP;cause=480;text="we are closed ({hours})"')
    await deps.publisher.end_contact(contact_id, "closed")


async def voicemail(live: Live, deps: VoiceDeps, hours: str, known: bool) -> None:
    """Record what the caller says until they hang up (or voice_voicemail_max_s), keep it
    as <contact id>.wav, and hand the contact its reference: it waits for the opening."""
    call, s = live.call, deps.settings
    call.callback = True  # the contact lives on: hanging up now is not an abandonment
    live.rtp.stop_playing()
    live.rtp.record(call.media.codec_pt)
    logger.info("voicemail_recording", call_id=call.call_id, contact_id=call.contact_id)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(live.ended.wait(), s.voice_voicemail_max_s)
    audio = live.rtp.recorded()
    name = f"{call.contact_id}.wav"
    s.voice_voicemail_dir.mkdir(parents=True, exist_ok=True)
    (s.voice_voicemail_dir / name).write_bytes(wav.g711_wav(audio, call.media.codec))
    meta = {"voicemail": name, "voicemail_s": round(len(audio) / wav.RATE, 1),
            "voicemail_at": utcnow().isoformat()}
    if known:
        meta |= {"callback": True, "callback_number": call.ani, "callback_gateway": s.replica,
                 "callback_requested_at": meta["voicemail_at"]}
    await deps.publisher.update_contact(ContactUpdated(contact_id=call.contact_id, metadata=meta))
    if call.live:  # the time is up: we end the call
        deps.finish(live, "voicemail")
        await send_bye(live, deps, reason=f'SIP;cause=480;text="we are closed ({hours}): message recorded"')
