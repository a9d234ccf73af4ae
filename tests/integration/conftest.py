import uuid

import httpx
import pytest
from redis.asyncio import Redis

from services.router.app import create_app
from services.router.settings import RouterSettings
from shared import topics
from shared.kafka import make_producer
from tests.support.kafka_watch import Watch
from tests.support.poll import until
from tests.support.router_harness import Harness


def _addr(infra, name):
    return infra[name] if isinstance(infra, dict) else getattr(infra, name)


@pytest.fixture
async def redis(infra):
    client = Redis.from_url(_addr(infra, "redis_url"))
    await client.flushdb()  # a clean routing state per test
    yield client
    await client.aclose()


@pytest.fixture
async def harness(infra, redis):
    bootstrap = _addr(infra, "kafka_bootstrap")
    settings = RouterSettings(
        kafka_bootstrap=bootstrap, redis_url=_addr(infra, "redis_url"), admin_token="test-admin-token",
        # A fresh group that starts at the end: earlier tests' contacts stay out of this one.
        router_group=f"test-router-{uuid.uuid4().hex[:8]}", offset_reset="latest", timer_interval_ms=50,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        router = app.state.router
        await until(router.assigned, 30, what="router partition assignment")
        for tp in router.consumer.assignment():
            await router.consumer.position(tp)
        producer = make_producer(bootstrap)
        await producer.start()
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://router") as http,
            Watch(bootstrap, topics.ROUTING, topics.AGENTS) as routing,
            Watch(bootstrap, topics.DEADLETTER) as deadletter,
        ):
            yield Harness(http=http, router=router, producer=producer, routing=routing, deadletter=deadletter)
        await producer.stop()
