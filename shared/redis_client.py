"""The Redis client every service uses: a bounded connection pool where a request that
finds every connection busy waits briefly for one instead of failing."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis

from shared.settings import CommonSettings


def connect(settings: CommonSettings) -> Redis:
    pool = BlockingConnectionPool.from_url(settings.redis_url, max_connections=settings.redis_max_connections,
                                           timeout=settings.redis_pool_timeout_s)
    return Redis(connection_pool=pool)
