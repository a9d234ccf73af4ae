"""A real router (real Kafka and Redis) on an injected clock, so stats are exact."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from services.router.bootstrap import RoutingService
from services.router.domain.commands import RefreshStats
from tests.integration.conftest import redis  # noqa: F401 -- a flushed Redis per test
from tests.support.router_harness import running_router
from tests.support.serve import serve

# 10:00:00 UTC on a fixed day: minute-aligned, so window edges are easy to reason about
T0 = int(datetime(2025, 3, 14, 10, 0, tzinfo=UTC).timestamp() * 1000)


class Clock:
    def __init__(self, ms: int = T0):
        self.ms = ms

    def __call__(self) -> int:
        return self.ms

    def at(self, seconds: float) -> None:
        """Move to T0 + seconds."""
        self.ms = T0 + int(seconds * 1000)


@dataclass
class OpsView:
    """The router's ops side as the tests look at it."""

    service: RoutingService

    @property
    def handled(self) -> int:  # events the stats projector has handled
        return self.service.deps.board.projected

    @property
    def settings(self):
        return self.service.settings

    @property
    def group(self) -> str:
        return f"{self.settings.router_group}-stats"

    async def refresh(self) -> dict:
        return await self.service.bus.handle(RefreshStats())


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def ops_harness(infra, redis, clock):  # noqa: F811 -- redis: a clean state per test
    # the clock jumps minutes; no heartbeats needed
    async with running_router(infra, clock=clock, router_group=f"test-ops-{uuid.uuid4().hex[:8]}",
                              presence_timeout_ms=10**9) as h:
        h.ops = OpsView(h.service)
        yield h


@pytest.fixture
async def served(ops_harness):
    """The same app on a real port (lifespan already running), for WebSocket and browser clients."""
    async with serve(ops_harness.app, lifespan="off") as url:
        ops_harness.base_url = url
        yield ops_harness
