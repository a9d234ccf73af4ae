"""The one wiring point: settings -> dial plan, SIP endpoint, Kafka gateway, handlers."""

from __future__ import annotations

import socket
from dataclasses import dataclass

import yaml

from shared import logging as log
from shared.lifecycle import cancel_tasks

from .adapters.media import load_hold_audio
from .adapters.sip_transport import SipEndpoint
from .domain.dialplan import DialPlan
from .gateway import VoiceGateway
from .handlers import dialog
from .handlers.deps import Deps
from .settings import VoiceSettings

logger = log.get("voice")
WILDCARDS = ("", "0.0.0.0", "::")


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
    deps: Deps

    async def start(self) -> None:
        await self.gateway.start()
        await self.sip.start()
        logger.info("voice_gateway_started", sip_port=self.sip.port, public_host=self.deps.public_host)

    async def stop(self) -> None:
        await self.sip.stop()
        await cancel_tasks(self.deps.tasks)
        await self.gateway.stop()

    def ready(self) -> bool:
        return self.sip.listening() and self.gateway.ready()


def build(settings: VoiceSettings, *, group: str | None = None) -> VoiceService:
    plan = load_dialplan(settings.voice_dialplan)
    gateway = VoiceGateway(settings, group=group)
    deps_box: list[Deps] = []

    async def on_request(req, peer):
        await dialog.dispatch(req, peer, deps_box[0])

    sip = SipEndpoint(settings.sip_host, settings.sip_port, on_request, t1_ms=settings.sip_t1_ms, t2_ms=settings.sip_t2_ms)
    deps = Deps(settings=settings, plan=plan, sip=sip, contacts=gateway, public_host=public_host(settings),
                rtp_host=settings.rtp_host or settings.sip_host, hold_audio=load_hold_audio(settings.voice_hold_audio))
    deps_box.append(deps)
    gateway.deps = deps
    return VoiceService(settings=settings, gateway=gateway, sip=sip, deps=deps)
