"""HTTP side of the email gateway: /healthz, /readyz, /metrics; the gateway runs in the
app's lifespan."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from shared import logging as log
from shared.http import add_health

from .bootstrap import EmailGateway
from .settings import EmailSettings


def create_app(settings: EmailSettings | None = None, gateway: EmailGateway | None = None) -> FastAPI:
    settings = settings or EmailSettings()
    log.configure(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        gw = gateway or EmailGateway(settings)
        await gw.start()
        app.state.gateway = gw
        try:
            yield
        finally:
            await gw.stop()

    app = FastAPI(title="Omniroute email gateway", version="1", lifespan=lifespan)

    async def readiness(request: Request) -> dict:
        gw: EmailGateway = request.app.state.gateway
        await gw.redis.ping()
        return {"ready": gw.ready(), "smtp_port": gw.smtp_port}

    add_health(app, readiness)

    return app
