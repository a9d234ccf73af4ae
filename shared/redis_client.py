"""The Redis client every service uses: a bounded connection pool where a request that
finds every connection busy waits briefly for one instead of failing; timeouts and TCP
keepalive so a blackholed link fails (and is retried) instead of hanging for minutes.

`OMNIROUTE_REDIS_URL` names one server (`redis://host:port/db`) or a Redis Cluster
(`redis+cluster://host:port[,host:port...]`, any of its nodes; `rediss+cluster://` for
TLS): then the services use redis-py's cluster client, which follows the slot map and
its changes after a failover."""

from __future__ import annotations

from urllib.parse import urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster

from shared.settings import CommonSettings

CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")


def is_cluster(url: str) -> bool:
    return urlsplit(url).scheme in CLUSTER_SCHEMES


def connect(settings: CommonSettings) -> Redis | RedisCluster:
    timeouts = {"socket_timeout": settings.redis_socket_timeout_s,
                "socket_connect_timeout": settings.redis_socket_timeout_s, "socket_keepalive": True}
    if is_cluster(settings.redis_url):
        return cluster(settings.redis_url, max_connections=settings.redis_max_connections, **timeouts)
    pool = BlockingConnectionPool.from_url(
        settings.redis_url, max_connections=settings.redis_max_connections, timeout=settings.redis_pool_timeout_s,
        health_check_interval=30, **timeouts)
    return Redis(connection_pool=pool)


def from_url(url: str, **kw) -> Redis | RedisCluster:
    """A client for a single server or a cluster URL (tools and tests)."""
    return cluster(url, **kw) if is_cluster(url) else Redis.from_url(url, **kw)


def cluster(url: str, **kw) -> RedisCluster:
    parts = urlsplit(url)
    nodes = [ClusterNode(host, int(port)) for host, _, port in
             (addr.rpartition(":") for addr in parts.netloc.rsplit("@", 1)[-1].split(","))]
    auth = {}
    if "@" in parts.netloc:
        user, _, password = parts.netloc.rsplit("@", 1)[0].partition(":")
        auth = {"username": user or None, "password": password or None}
    return RedisCluster(startup_nodes=nodes, ssl=parts.scheme.startswith("rediss"), **auth, **kw)
