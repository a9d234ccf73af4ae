"""Telling a waiting caller where they stand: when the router queues the call
(contact.queued: its place in the real order and the estimated wait), and then, each
time voice_announce_every_s has passed since the last one ended, the wait left of that
estimate, over the hold audio."""

from __future__ import annotations

import asyncio
import time

from shared.cloudevents import Envelope
from shared.events import ContactQueued

from ..adapters import metrics
from ..domain.announce import left, phrases
from ..domain.call import Phase
from .deps import Live, VoiceDeps

SETTLE_S = 2.0  # the queued event may overtake the gateway's own step into the queue


def contact_queued(event: Envelope, deps: VoiceDeps) -> None:
    q: ContactQueued = event.data
    live = deps.by_contact.get(q.contact_id)
    if live is None or deps.prompts is None:
        return  # not our call (or a callback), or announcements are off
    if live.announcer:
        live.announcer.cancel()  # queued again (a transfer): the new place counts
    live.announcer = deps.spawn(_announce(live, q.position, q.estimated_wait_s, deps))


async def _announce(live: Live, position: int | None, wait_s: float | None, deps: VoiceDeps) -> None:
    since = time.monotonic()
    while live.call.phase != Phase.QUEUED and time.monotonic() - since < SETTLE_S:
        await asyncio.sleep(0.05)
    said = phrases(position, wait_s)
    every = deps.settings.voice_announce_every_s
    while live.call.phase == Phase.QUEUED and said:
        speaking_s = _say(live, said, deps)
        if every <= 0 or wait_s is None:
            return
        await asyncio.sleep(speaking_s + every)  # the interval runs from the end of it
        said = phrases(None, left(wait_s, time.monotonic() - since))


def _say(live: Live, said: list[str], deps: VoiceDeps) -> float:
    """Say it over the hold audio; returns how long it takes (s)."""
    media = live.call.media
    if not media or not live.rtp:
        return 0.0
    words = deps.prompts.say(said, media.codec_pt)
    if words:
        live.rtp.announce(words, media.codec_pt, then=deps.hold_audio)
        metrics.ANNOUNCEMENTS.inc()
    return len(words) / 8000  # 8 kHz, a byte a sample
