"""The Redis client every service uses: a bounded connection pool where a request that
finds every connection busy waits briefly for one instead of failing; timeouts and TCP
keepalive so a blackholed link fails (and is retried) instead of hanging for minutes."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis

from shared.settings import CommonSettings


def connect(settings: CommonSettings) -> Redis:
    pool = BlockingConnectionPool.from_url(
        settings.redis_url, max_connections=settings.redis_max_connections, timeout=settings.redis_pool_timeout_s,
        socket_timeout=settings.redis_socket_timeout_s, socket_connect_timeout=settings.redis_socket_timeout_s,
        socket_keepalive=True, health_check_interval=30)
    return Redis(connection_pool=pool)
