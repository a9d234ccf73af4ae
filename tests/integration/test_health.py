"""Liveness: /healthz turns red (503, naming it) once a loop the router can't work
without has ended, so an orchestrator restarts the replica instead of keeping a router
that no longer routes."""

import asyncio

import pytest

from tests.integration.conftest import harness, redis  # noqa: F401  (fixtures)

pytestmark = pytest.mark.integration


async def test_a_dead_loop_turns_health_red(harness):  # noqa: F811
    r = await harness.http.get("/healthz")
    assert (r.status_code, r.json()) == (200, {"status": "ok"})
    routing = harness.service.consumers["router"]
    routing.task.cancel()  # as if the consume loop had ended on an error
    await asyncio.wait({routing.task}, timeout=5)
    r = await harness.http.get("/healthz")
    assert r.status_code == 503 and r.json() == {"status": "failing", "dead": ["router"]}
    assert (await harness.http.get("/readyz")).status_code == 503
