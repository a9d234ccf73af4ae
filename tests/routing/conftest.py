import pytest

from services.router.adapters.store import RoutingStore
from shared.redis_client import from_url
from tests.routing.world import Clock, World, db_url, routing_policy

ROUTING_DB = 11  # a database of its own on the test Redis, flushed per test


def redis_url(infra) -> str:
    return infra["redis_url"] if isinstance(infra, dict) else infra.redis_url


@pytest.fixture
async def world(infra):
    redis = from_url(db_url(redis_url(infra), ROUTING_DB))
    await redis.flushdb()
    clock = Clock()
    state = RoutingStore(redis, now_ms=clock, presence_timeout_ms=3_600_000)  # presence tests set their own
    policy = routing_policy()
    await state.install_policy(policy)
    yield World(state=state, policy=policy, clock=clock)
    await redis.aclose()
