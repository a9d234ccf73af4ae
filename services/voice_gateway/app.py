"""HTTP side of the voice gateway: health, readiness and metrics. The SIP endpoint and
the Kafka gateway live in the app's lifespan."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from shared import logging as log
from shared.http import add_health

from .bootstrap import VoiceService, build
from .settings import VoiceSettings


def create_app(settings: VoiceSettings | None = None, service: VoiceService | None = None) -> FastAPI:
    settings = settings or VoiceSettings()
    log.configure(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        svc = service or build(settings)
        await svc.start()
        app.state.voice = svc
        try:
            yield
        finally:
            await svc.stop()

    app = FastAPI(title="Omniroute voice gateway", version="1", lifespan=lifespan)

    async def readiness(request: Request) -> dict:
        svc: VoiceService = request.app.state.voice
        return {"ready": svc.ready(), "sip_port": svc.sip.port, "active_calls": len(svc.deps.calls)}

    add_health(app, readiness)

    return app
