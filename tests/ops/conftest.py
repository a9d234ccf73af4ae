"""A real router (real Kafka and Redis) on an injected clock, so stats are exact."""

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from redis.asyncio import Redis

from services.router.adapters.state import RoutingState
from services.router.app import create_app
from services.router.bootstrap import build
from services.router.settings import RouterSettings
from shared import topics
from shared.kafka import make_producer
from tests.support.kafka_watch import Watch
from tests.support.poll import until
from tests.support.router_harness import Harness

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


def _addr(infra, name):
    return infra[name] if isinstance(infra, dict) else getattr(infra, name)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def ops_harness(infra, clock):
    bootstrap, redis_url = _addr(infra, "kafka_bootstrap"), _addr(infra, "redis_url")
    flush = Redis.from_url(redis_url)
    await flush.flushdb()  # our own Redis (see team brief): a clean state per test
    await flush.aclose()
    settings = RouterSettings(
        kafka_bootstrap=bootstrap, redis_url=redis_url, admin_token="test-admin-token",
        router_group=f"test-ops-{uuid.uuid4().hex[:8]}", offset_reset="latest", timer_interval_ms=50,
        presence_timeout_ms=10**9,  # the clock jumps minutes; no heartbeats needed
    )
    router = build(settings)
    router.state = RoutingState(router.redis, now_ms=clock, presence_timeout_ms=settings.presence_timeout_ms)
    app = create_app(settings, router=router)
    async with app.router.lifespan_context(app):
        ops = app.state.ops
        await until(lambda: router.assigned() and ops.assigned(), 30, what="partition assignment")
        for consumer in (router.consumer, ops.consumer):
            for tp in consumer.assignment():
                await consumer.position(tp)
        producer = make_producer(bootstrap)
        await producer.start()
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://router") as http,
            Watch(bootstrap, topics.ROUTING, topics.AGENTS) as routing,
            Watch(bootstrap, topics.DEADLETTER) as deadletter,
        ):
            h = Harness(http=http, router=router, producer=producer, routing=routing, deadletter=deadletter)
            h.app, h.ops = app, ops
            yield h
        await producer.stop()


@pytest.fixture
async def served(ops_harness):
    """The same app on a real port (lifespan already running), for WebSocket and browser clients."""
    import asyncio

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(ops_harness.app, host="127.0.0.1", port=0, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    await until(lambda: server.started, 10, what="uvicorn start")
    port = server.servers[0].sockets[0].getsockname()[1]
    ops_harness.base_url = f"http://127.0.0.1:{port}"
    yield ops_harness
    server.should_exit = True
    await task
