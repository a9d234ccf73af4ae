"""FastAPI application and the one wiring point of the chat gateway."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from redis.asyncio import Redis

from shared import logging as log
from shared.http import add_health
from shared.lifecycle import cancel_tasks

from . import conversations
from .adapters.hub import Hub
from .adapters.store import ChatStore
from .entrypoints import http, ws
from .entrypoints.http import STATIC
from .gateway import ChatGateway
from .settings import ChatSettings

logger = log.get("chat")
ABANDON_TICK_S = 0.5


async def _abandon_loop(deps) -> None:
    """Ends the contacts of customers whose socket dropped and who did not come back."""
    while True:
        try:
            await conversations.end_dropped(deps)
        except Exception:  # a Redis or Kafka blip: try again next tick
            logger.exception("abandon_loop_error")
        await asyncio.sleep(ABANDON_TICK_S)


def create_app(settings: ChatSettings | None = None) -> FastAPI:
    settings = settings or ChatSettings()
    log.configure(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        redis = Redis.from_url(settings.redis_url)
        gateway = ChatGateway(settings, ChatStore(redis), Hub())
        await gateway.start()
        app.state.deps, app.state.redis = gateway.deps, redis
        task = asyncio.create_task(_abandon_loop(gateway.deps), name="abandon")
        try:
            yield
        finally:
            await cancel_tasks([task])
            await gateway.stop()
            await redis.aclose()

    app = FastAPI(title="Omniroute chat gateway", version="1", lifespan=lifespan)
    app.include_router(http.router)
    app.include_router(ws.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    async def readiness(request: Request) -> dict:
        await request.app.state.redis.ping()
        return {"ready": request.app.state.deps.gateway.ready()}

    add_health(app, readiness)

    return app
