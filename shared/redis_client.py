"""The Redis client every service uses: a bounded connection pool where a request that
finds every connection busy waits briefly for one instead of failing; timeouts and TCP
keepalive so a blackholed link fails (and is retried) instead of hanging for minutes.

`OMNIROUTE_REDIS_URL` names one server (`redis://host:port/db`) or a Redis Cluster
(`redis+cluster://host:port[,host:port...]`, any of its nodes; `rediss+cluster://` for
TLS): then the services use redis-py's cluster client, which follows the slot map and
its changes after a failover."""

from __future__ import annotations

import asyncio
import contextlib
from contextvars import ContextVar
from urllib.parse import urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, ClusterPipeline, RedisCluster
from redis.exceptions import MaxConnectionsError

from shared.settings import CommonSettings

CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")


def is_cluster(url: str) -> bool:
    return urlsplit(url).scheme in CLUSTER_SCHEMES


def connect(settings: CommonSettings) -> Redis | RedisCluster:
    timeouts = {"socket_timeout": settings.redis_socket_timeout_s,
                "socket_connect_timeout": settings.redis_socket_timeout_s, "socket_keepalive": True}
    if is_cluster(settings.redis_url):
        return cluster(settings.redis_url, max_connections=settings.redis_max_connections,
                       pool_timeout_s=settings.redis_pool_timeout_s, **timeouts)
    pool = BlockingConnectionPool.from_url(
        settings.redis_url, max_connections=settings.redis_max_connections, timeout=settings.redis_pool_timeout_s,
        health_check_interval=30, **timeouts)
    return Redis(connection_pool=pool)


def from_url(url: str, **kw) -> Redis | RedisCluster:
    """A client for a single server or a cluster URL (tools and tests)."""
    return cluster(url, **kw) if is_cluster(url) else Redis.from_url(url, **kw)


_holding: ContextVar[bool] = ContextVar("holding_redis_slot", default=False)


class WaitingCluster(RedisCluster):
    """redis-py's async cluster client fails at once (MaxConnectionsError) when a node's
    connections are all busy; this one lets at most `max_connections` operations run at
    a time (each holds at most one connection per node) and makes the others wait up to
    `pool_timeout_s`, as the single-server pool does."""

    def __init__(self, *args, pool_timeout_s: float = 5.0, max_connections: int = 100, **kw):
        super().__init__(*args, max_connections=max_connections, **kw)
        self._in_flight = asyncio.Semaphore(max_connections)
        self._pool_timeout_s = pool_timeout_s

    @contextlib.asynccontextmanager
    async def slot(self):
        if _holding.get():  # a pipeline retrying one of its commands already holds one
            yield
            return
        try:
            async with asyncio.timeout(self._pool_timeout_s):
                await self._in_flight.acquire()
        except TimeoutError:
            raise MaxConnectionsError(f"no Redis connection free within {self._pool_timeout_s} s") from None
        token = _holding.set(True)
        try:
            yield
        finally:
            _holding.reset(token)
            self._in_flight.release()

    async def execute_command(self, *args, **kw):
        async with self.slot():
            return await super().execute_command(*args, **kw)

    def pipeline(self, transaction=None, shard_hint=None) -> ClusterPipeline:
        super().pipeline(transaction, shard_hint)  # its checks
        return WaitingPipeline(self, transaction)


class WaitingPipeline(ClusterPipeline):
    async def execute(self, raise_on_error: bool = True, allow_redirections: bool = True):
        async with self.cluster_client.slot():
            return await super().execute(raise_on_error, allow_redirections)


def cluster(url: str, **kw) -> RedisCluster:
    parts = urlsplit(url)
    nodes = [ClusterNode(host, int(port)) for host, _, port in
             (addr.rpartition(":") for addr in parts.netloc.rsplit("@", 1)[-1].split(","))]
    auth = {}
    if "@" in parts.netloc:
        user, _, password = parts.netloc.rsplit("@", 1)[0].partition(":")
        auth = {"username": user or None, "password": password or None}
    return WaitingCluster(startup_nodes=nodes, ssl=parts.scheme.startswith("rediss"), **auth, **kw)
