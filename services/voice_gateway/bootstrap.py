"""The one wiring point: settings -> dial plan, SIP endpoint, Kafka gateway, handlers."""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass

import yaml

from shared import logging as log
from shared import topics
from shared.cloudevents import Envelope
from shared.events import VOICE, event_type
from shared.gateway import ChannelGateway
from shared.lifecycle import cancel_tasks, stop_within
from shared.loops import Loop, dead
from shared.tls import server_context

from .adapters.media import load_hold_audio
from .adapters.prompts import Prompts
from .adapters.sip_transport import SipEndpoint
from .domain.dialplan import DialPlan
from .entrypoints import sip as sip_requests
from .handlers import announce, callback, closed, ivr, transfer
from .handlers import registration as registration_handlers
from .handlers.deps import VoiceDeps
from .settings import VoiceSettings

logger = log.get("voice")
WILDCARDS = ("", "0.0.0.0", "::")
# Each returns at once: SIP work (a REFER, a BYE) runs beside the consumer loop.
HANDLERS = {
    event_type("contact.queued"): announce.contact_queued,  # say the caller's place and wait
    event_type("contact.assigned"): callback.contact_assigned,  # dial a callback; REFER to the agent
    event_type("contact.overflowed"): ivr.contact_overflowed,  # take the callback, hang up
    event_type("contact.deferred"): closed.contact_deferred,  # closed: voicemail, callback, or goodbye
    event_type("contact.transferred"): transfer.contact_transferred,  # on hold for the next agent
    event_type("contact.completed"): transfer.contact_completed,  # leave the call
}


class VoiceGateway(ChannelGateway):
    """The Kafka side: produces contacts, and moves the calls it holds as routing events say."""

    channel = VOICE
    subscribes = (topics.ROUTING,)
    deps: VoiceDeps | None = None  # set by build once the SIP side exists

    async def handle(self, event: Envelope) -> None:
        handler = HANDLERS.get(event.type)
        if handler is not None and self.deps is not None:
            handler(event, self.deps)


def load_dialplan(path) -> DialPlan:
    with open(path) as f:
        return DialPlan.model_validate(yaml.safe_load(f) or {})


def public_host(settings: VoiceSettings) -> str:
    if settings.sip_public_host:
        return settings.sip_public_host
    if settings.sip_host not in WILDCARDS:
        return settings.sip_host
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:  # no packet is sent
        try:
            s.connect(("192.0.2.1", 9))
            return s.getsockname()[0]
        except OSError:
            return "127.0.0.1"


@dataclass
class VoiceService:
    settings: VoiceSettings
    gateway: VoiceGateway
    sip: SipEndpoint
    deps: VoiceDeps
    registration: Loop | None = None  # keeps us registered (sip_registrar)
    binding: registration_handlers.Binding | None = None

    async def start(self) -> None:
        await self.gateway.start()
        await self.sip.start()
        self.binding = registration_handlers.binding(self.deps)  # its Contact names the port just bound
        if self.binding is not None:
            self.registration = Loop("sip-registration", lambda: registration_handlers.refresh(self.binding, self.deps),
                                     1.0)
            await self.registration.start()
        logger.info("voice_gateway_started", sip_port=self.sip.port, public_host=self.deps.public_host)

    async def stop(self) -> None:
        if self.registration is not None:
            await self.registration.stop()
            if self.binding.registered:  # take our binding away: calls must not come here now
                with contextlib.suppress(Exception):
                    await stop_within(registration_handlers.register(self.binding, self.deps, expires_s=0),
                                      "sip unregister", seconds=3)
        await self.sip.stop()
        await cancel_tasks(self.deps.tasks)
        await self.gateway.stop()

    def dead_loops(self) -> list[str]:
        loops = [self.registration] if self.registration is not None else []
        return self.gateway.dead_loops() + dead(loops) + ([] if self.sip.listening() else ["sip-endpoint"])

    async def readiness(self) -> dict:
        return {"ready": self.sip.listening() and self.gateway.ready(), "sip_port": self.sip.port,
                "active_calls": len(self.deps.calls)}


def build(settings: VoiceSettings, *, group: str | None = None) -> VoiceService:
    plan = load_dialplan(settings.voice_dialplan)
    gateway = VoiceGateway(settings, group=group)
    deps_box: list[VoiceDeps] = []

    async def on_request(req, peer):
        await sip_requests.dispatch(req, peer, deps_box[0])

    tls = server_context(settings.sip_tls_cert, settings.sip_tls_key) if settings.sip_tls_port else None
    sip = SipEndpoint(settings.sip_host, settings.sip_port, on_request, t1_ms=settings.sip_t1_ms, t2_ms=settings.sip_t2_ms,
                      tls_port=settings.sip_tls_port, tls=tls)
    deps = VoiceDeps(settings=settings, plan=plan, sip=sip, publisher=gateway, public_host=public_host(settings),
                rtp_host=settings.rtp_host or settings.sip_host, hold_audio=load_hold_audio(settings.voice_hold_audio),
                prompts=Prompts() if settings.voice_announce_wait else None)
    deps_box.append(deps)
    gateway.deps = deps
    return VoiceService(settings=settings, gateway=gateway, sip=sip, deps=deps)
