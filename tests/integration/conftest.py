import pytest

from shared.redis_client import from_url
from tests.support.router_harness import infra_address, running_router


@pytest.fixture
async def redis(infra):
    client = from_url(infra_address(infra, "redis_url"))
    await client.flushdb()  # a clean routing state per test
    yield client
    await client.aclose()


@pytest.fixture
async def harness(infra, redis):
    async with running_router(infra) as h:
        yield h
