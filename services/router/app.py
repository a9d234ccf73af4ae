"""The router's HTTP app: the /v1 API, the desktop and ops pages, health, readiness
and metrics, with the routing service (bootstrap) running for the app's lifetime."""

from __future__ import annotations

from fastapi import FastAPI

from shared.http import service_app

from .bootstrap import RoutingService, bootstrap
from .entrypoints.api.errors import add_error_handlers
from .entrypoints.api.routes import (
    agents,
    campaigns,
    contacts,
    customers,
    desktop,
    offers,
    queues,
    sso,
    stats,
    webhooks,
)
from .entrypoints.ops_page import routes as ops_page
from .settings import RouterSettings


def create_app(settings: RouterSettings | None = None, service: RoutingService | None = None) -> FastAPI:
    settings = settings or RouterSettings()
    app = service_app("Omniroute router", lambda: service or bootstrap(settings), settings.log_level)
    for module in (agents, offers, contacts, customers, queues, desktop, stats, webhooks, campaigns):
        app.include_router(module.api, prefix="/v1")
    app.include_router(desktop.pages)
    app.include_router(sso.pages)  # /auth: single sign-on
    app.include_router(ops_page.api)  # /ops and /survey/{contact_id}
    add_error_handlers(app)
    return app
