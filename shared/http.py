"""The endpoints every service has: /healthz (alive), /readyz (ready for traffic) and
/metrics (Prometheus)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Protocol

from aiokafka.errors import KafkaError
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest, make_asgi_app
from pydantic import BaseModel
from redis.exceptions import ResponseError as RedisResponseError

from shared import logging as log
from shared import tracing
from shared.consumer_loop import TRANSIENT, is_transient
from shared.runtime import tune_gc

Readiness = Callable[[Request], Awaitable[dict]]


class Problem(BaseModel):
    """Why a request was refused (422s carry FastAPI's list of validation errors instead)."""

    detail: str


# What any operation may answer besides its own success, in the published OpenAPI.
ERROR_RESPONSES: dict[int | str, dict] = {code: {"model": Problem, "description": text} for code, text in {
    400: "Malformed request", 401: "Missing or invalid token", 403: "Not allowed with this token",
    404: "No such resource", 409: "Conflicts with the current state", 413: "Body too large",
    429: "Rate limited: retry later", 503: "Redis or Kafka not answering: retry after Retry-After",
}.items()}


class Service(Protocol):
    """What every service's process runs inside its HTTP app."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def readiness(self) -> dict:
        """{"ready": bool, ...}; raising means not ready."""
        ...

    def dead_loops(self) -> list[str]:
        """Names of essential background loops that have ended (health turns red)."""
        ...


def service_app(title: str, build: Callable[[], Service], log_level: str = "INFO") -> FastAPI:
    """The HTTP app of a service: `build()` makes the service at start-up; it runs for
    the app's lifetime (as `app.state.service`) and answers /readyz."""
    log.configure(log_level)
    tracing.setup(title.lower().replace(" ", "-"))  # off unless OTEL_* says where spans go

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service = build()
        await service.start()
        tune_gc()
        app.state.service = service
        try:
            yield
        finally:
            await service.stop()

    app = FastAPI(title=title, version="1", lifespan=lifespan, responses=ERROR_RESPONSES)
    tracing.instrument_app(app)
    add_health(app, lambda request: request.app.state.service.readiness())
    add_unavailable(app)
    return app


def add_unavailable(app: FastAPI) -> None:
    """Redis or Kafka not answering (restarting, failing over, unreachable) is a 503 with
    Retry-After, which clients retry, not a 500."""
    logger = log.get("http")

    async def unavailable(request: Request, exc: Exception) -> JSONResponse:
        if not is_transient(exc):
            logger.error("request_failed", path=request.url.path, error=repr(exc))
            return JSONResponse({"detail": "internal error"}, status_code=500)
        logger.warning("backend_unavailable", path=request.url.path, error=repr(exc))
        return JSONResponse({"detail": "temporarily unavailable (Redis or Kafka is not answering): retry"},
                            status_code=503, headers={"Retry-After": "1"})

    for cls in (*TRANSIENT, RedisResponseError, KafkaError):
        app.add_exception_handler(cls, unavailable)


def add_health(app: FastAPI, readiness: Readiness) -> None:
    """`readiness` returns a body with a boolean `ready`; an exception means not ready
    (Redis or Kafka unreachable), never a 500."""

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:  # at /metrics itself, not a redirect to /metrics/
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.mount("/metrics", make_asgi_app())

    @app.get("/healthz", tags=["health"])
    async def healthz(request: Request, response: Response) -> dict:
        """503 once a loop the service can't work without has died: restart me."""
        service = getattr(request.app.state, "service", None)
        dead = service.dead_loops() if service is not None else []
        if dead:
            response.status_code = 503
            return {"status": "failing", "dead": dead}
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz(request: Request, response: Response) -> dict:
        try:
            body = await readiness(request)
        except Exception:
            body = {"ready": False}
        response.status_code = 200 if body.get("ready") else 503
        return body
