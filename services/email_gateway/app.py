"""HTTP side of the email gateway: /healthz, /readyz, /metrics; the gateway runs in the
app's lifespan."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from prometheus_client import make_asgi_app

from shared import logging as log

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
    app.mount("/metrics", make_asgi_app())

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz(request: Request, response: Response) -> dict:
        gw: EmailGateway = request.app.state.gateway
        try:
            await gw.redis.ping()
            ready = gw.ready()
        except Exception:
            ready = False
        response.status_code = 200 if ready else 503
        return {"ready": ready, "smtp_port": gw.smtp_port}

    return app
