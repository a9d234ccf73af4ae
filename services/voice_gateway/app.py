"""HTTP side of the voice gateway: health, readiness and metrics. The SIP endpoint and
the Kafka gateway live in the app's lifespan."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from prometheus_client import make_asgi_app

from shared import logging as log

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
    app.mount("/metrics", make_asgi_app())

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz(request: Request, response: Response) -> dict:
        svc: VoiceService = request.app.state.voice
        ready = svc.ready()
        response.status_code = 200 if ready else 503
        return {"ready": ready, "sip_port": svc.sip.port, "active_calls": len(svc.deps.calls)}

    return app
