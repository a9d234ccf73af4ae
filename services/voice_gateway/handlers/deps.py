"""What the handlers need, and the live state of each call the gateway holds."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Protocol

from sipmessage import Request

from shared import logging as log
from shared.cloudevents import Envelope
from shared.events import ContactCreated, ContactUpdated

from ..adapters import metrics
from ..adapters.media import RtpSession
from ..adapters.prompts import Prompts
from ..adapters.sip_transport import Peer, SipEndpoint
from ..domain import sip
from ..domain.admission import TokenBucket
from ..domain.call import Call, Phase
from ..domain.dialplan import DialPlan
from ..settings import VoiceSettings

logger = log.get("voice")


class Publisher(Protocol):
    """The gateway SDK's producing side (each call returns after Kafka acknowledged)."""

    async def submit_contact(self, contact: ContactCreated) -> Envelope: ...
    async def update_contact(self, update: ContactUpdated) -> Envelope: ...
    async def end_contact(self, contact_id: str, reason: str = "customer_left") -> Envelope: ...


@dataclass(eq=False)
class Live:
    """A call plus the I/O attached to it."""

    call: Call
    peer: Peer
    invite: Request | None  # the caller's INVITE (None: a call we placed)
    rtp: RtpSession | None = None
    answered: bool = False
    timer: asyncio.Task | None = None
    announcer: asyncio.Task | None = None  # says the wait while queued
    transfer: asyncio.Future | None = None  # the final sipfrag status from NOTIFY
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    established: asyncio.Event = field(default_factory=asyncio.Event)  # ACK received
    ended: asyncio.Event = field(default_factory=asyncio.Event)  # released (finish)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one digit at a time


@dataclass
class VoiceDeps:
    settings: VoiceSettings
    plan: DialPlan
    sip: SipEndpoint
    publisher: Publisher
    public_host: str
    rtp_host: str
    hold_audio: bytes = b""
    prompts: Prompts | None = None  # wait announcements; none: not said
    calls: dict[str, Live] = field(default_factory=dict)  # by SIP Call-ID
    by_contact: dict[str, Live] = field(default_factory=dict)
    tasks: set[asyncio.Task] = field(default_factory=set)
    dialing: set[str] = field(default_factory=set)  # callback contacts being dialled
    invites: TokenBucket | None = None

    def __post_init__(self) -> None:
        if self.invites is None:
            rate = self.settings.voice_invite_rate_per_s
            self.invites = TokenBucket(rate, burst=max(1.0, 2 * rate))

    def _port(self, peer: Peer) -> int:
        return self.sip.tls_port if peer.transport == "tls" else self.sip.port

    def via(self, peer: Peer) -> str:
        return f"SIP/2.0/{peer.transport.upper()} {self.public_host}:{self._port(peer)}"

    def contact_uri(self, peer: Peer) -> str:
        transport = "" if peer.transport == "udp" else f";transport={peer.transport}"
        return f"sip:omniroute@{self.public_host}:{self._port(peer)}{transport}"

    def hop(self, live: Live) -> Peer:
        """Where the call's next request in its dialog goes: the first proxy of its route
        set (a proxy that Record-Routed stays in the path), else where the call came from.
        A stream to another address than the caller's is not opened: over TCP and TLS the
        request goes down the connection the call came on."""
        found = live.call.dialog.next_hop()
        if found is None or found[2] != "udp" or found[:2] == tuple(live.peer.addr):
            return live.peer
        return Peer("udp", found[:2])

    def spawn(self, coro: Awaitable) -> asyncio.Task:
        """Run beside the current handler; failures are logged, never raised into SIP."""
        task = asyncio.ensure_future(_logged(coro))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def in_dialog(self, req: Request, peer: Peer) -> Live | None:
        """The call a mid-dialog request belongs to: its Call-ID, both tags (RFC 3261
        12.2.2) and the sender (the caller, or the proxy the dialog routes through) must
        match, so knowing a Call-ID is not enough to end or steer someone's call."""
        live = self.calls.get(req.call_id)
        if live is None:
            return None
        if sip.tag_of(req.from_address) != live.call.dialog.remote_tag:
            return None
        if sip.tag_of(req.to_address) != live.call.local_tag:
            return None
        hop = live.call.dialog.next_hop()  # behind a proxy, requests come from it
        return live if peer.addr[0] in (live.peer.addr[0], hop and hop[0]) else None

    def admit(self, now: float) -> bool:
        """Room for one more call: under the cap on calls held and the INVITE rate."""
        return len(self.calls) < self.settings.voice_max_calls and self.invites.take(now)

    def register(self, live: Live) -> None:
        self.calls[live.call.call_id] = live
        metrics.ACTIVE_CALLS.set(len(self.calls))

    def finish(self, live: Live, outcome: str) -> None:
        """Release everything the call holds. Idempotent."""
        call = live.call
        if call.phase == Phase.ENDED:
            return
        call.phase = Phase.ENDED
        live.ended.set()
        for task in (live.timer, live.announcer):
            if task and task is not asyncio.current_task():
                task.cancel()
        if live.transfer and not live.transfer.done():
            live.transfer.cancel()
        if live.rtp:
            live.rtp.close()
        self.sip.stop_retransmit(f"2xx:{call.call_id}")
        self.calls.pop(call.call_id, None)
        if call.contact_id:
            self.by_contact.pop(call.contact_id, None)
        metrics.ACTIVE_CALLS.set(len(self.calls))
        metrics.CALLS.labels(outcome=outcome).inc()
        logger.info("call_ended", call_id=call.call_id, contact_id=call.contact_id, outcome=outcome)


async def _logged(coro: Awaitable) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        try:
            await coro
        except Exception:
            logger.exception("voice_task_failed")
