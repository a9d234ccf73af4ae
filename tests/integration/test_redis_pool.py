"""More requests at once than the Redis client has connections: they wait their turn
(up to OMNIROUTE_REDIS_POOL_TIMEOUT_S) instead of failing. On one server that is the
blocking pool; on a cluster, redis-py fails at once (MaxConnectionsError) unless
shared.redis_client bounds the operations in flight, which is what this checks there."""

import asyncio

import pytest

from shared.redis_client import connect
from shared.settings import CommonSettings
from tests.support.router_harness import infra_address

pytestmark = pytest.mark.integration


async def test_a_burst_beyond_the_pool_waits_instead_of_failing(infra):
    settings = CommonSettings(redis_url=infra_address(infra, "redis_url"), redis_max_connections=4,
                              redis_pool_timeout_s=10)
    redis = connect(settings)
    try:
        keys = [f"pooltest:{{t}}:{i}" for i in range(400)]
        assert all(await asyncio.gather(*(redis.set(k, i, ex=60) for i, k in enumerate(keys))))

        async def pair(i: int) -> list:
            async with redis.pipeline(transaction=False) as pipe:
                return await pipe.get(keys[i]).get(keys[i + 1]).execute()

        pairs = await asyncio.gather(*(pair(i) for i in range(300)))
        assert pairs[7] == [b"7", b"8"] and len(pairs) == 300
    finally:
        await redis.aclose()
