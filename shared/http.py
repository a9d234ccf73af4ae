"""The endpoints every service has: /healthz (alive), /readyz (ready for traffic) and
/metrics (Prometheus)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import make_asgi_app

Readiness = Callable[[Request], Awaitable[dict]]


def add_health(app: FastAPI, readiness: Readiness) -> None:
    """`readiness` returns a body with a boolean `ready`; an exception means not ready
    (Redis or Kafka unreachable), never a 500."""
    app.mount("/metrics", make_asgi_app())

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz(request: Request, response: Response) -> dict:
        try:
            body = await readiness(request)
        except Exception:
            body = {"ready": False}
        response.status_code = 200 if body.get("ready") else 503
        return body
