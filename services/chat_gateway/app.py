"""The chat gateway's HTTP app: widget, customer WebSocket, health and metrics."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from shared.http import service_app

from .bootstrap import ChatService, build
from .entrypoints import http, ws
from .entrypoints.http import STATIC
from .settings import ChatSettings


def create_app(settings: ChatSettings | None = None, service: ChatService | None = None) -> FastAPI:
    settings = settings or ChatSettings()
    app = service_app("Omniroute chat gateway", lambda: service or build(settings), settings.log_level)
    app.include_router(http.api)
    app.include_router(ws.api)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
