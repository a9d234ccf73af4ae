"""FastAPI application: the /v1 API, health, readiness and metrics."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from shared import logging as log
from shared.http import add_health

from .bootstrap import Router, build
from .entrypoints.api.routes import (
    agents,
    contacts,
    customers,
    desktop,
    offers,
    queues,
    stats,
)
from .entrypoints.ops_page import routes as ops_page
from .ops.projector import Ops
from .settings import RouterSettings


def create_app(settings: RouterSettings | None = None, router: Router | None = None) -> FastAPI:
    settings = settings or RouterSettings()
    log.configure(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        r = router or build(settings)
        await r.start()
        app.state.router = r
        feed = await desktop.start_feed(app, r)  # pushes to agent desktops
        app.state.ops = Ops(r)  # stats projector, report loop, ops page feed
        await app.state.ops.start()
        try:
            yield
        finally:
            await app.state.ops.stop()
            await feed.stop()
            await r.stop()

    app = FastAPI(title="Omniroute router", version="1", lifespan=lifespan)
    for module in (agents, offers, contacts, customers, queues, desktop, stats):
        app.include_router(module.router, prefix="/v1")
    app.include_router(desktop.pages)
    app.include_router(ops_page.router)  # /ops and /survey/{contact_id}

    async def readiness(request: Request) -> dict:
        r: Router = request.app.state.router
        await r.redis.ping()
        return {"ready": r.healthy() and r.assigned()}

    add_health(app, readiness)

    return app
