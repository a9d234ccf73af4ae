"""A Redis link that goes silent (a blackholed connection) fails within the socket
timeout instead of hanging: the service's loops then retry as after any outage."""

import asyncio
import time

import pytest
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared.redis_client import connect
from shared.settings import CommonSettings

pytestmark = pytest.mark.integration


async def test_a_silent_redis_link_times_out():
    accepted = asyncio.Event()

    async def blackhole(reader, writer):  # accepts, reads, never answers
        accepted.set()
        await reader.read(1 << 16)
        await asyncio.sleep(60)

    server = await asyncio.start_server(blackhole, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    redis = connect(CommonSettings(redis_url=f"redis://127.0.0.1:{port}/0", redis_socket_timeout_s=0.5))
    try:
        started = time.monotonic()
        with pytest.raises(RedisTimeoutError):
            await asyncio.wait_for(redis.ping(), 10)  # the guard only: the client must give up first
        assert accepted.is_set()
        assert time.monotonic() - started < 5
    finally:
        await redis.aclose()
        server.close()
