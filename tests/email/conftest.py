"""Email end-to-end fixtures: a real router and the email gateway in-process on the real
Kafka + Redis, an aiosmtpd sink standing in for the outbound relay, and a dovecot IMAP
server started from a generated config (tests/email/dovecot.py)."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from aiosmtpd.smtp import SMTP
from redis.asyncio import Redis

from services.router.app import create_app as create_router_app
from services.router.settings import RouterSettings
from shared import topics
from shared.kafka import make_producer
from tests.email.dovecot import Dovecot
from tests.email.helpers import POLICY, Gateway, Sink, addr, gateway_settings, positioned, require_tool, start_gateway
from tests.support.kafka_watch import Watch
from tests.support.router_harness import Harness


@pytest.fixture
async def redis(infra):
    client = Redis.from_url(addr(infra, "redis_url"))
    await client.flushdb()  # clean routing and email state per test
    yield client
    await client.aclose()


@pytest.fixture
async def harness(infra, redis):
    """A real router on the email test policy (email queue needs the `email` skill)."""
    bootstrap = addr(infra, "kafka_bootstrap")
    settings = RouterSettings(
        kafka_bootstrap=bootstrap, redis_url=addr(infra, "redis_url"), admin_token="test-admin-token",
        router_group=f"test-router-{uuid.uuid4().hex[:8]}", offset_reset="latest", timer_interval_ms=50,
        policy_file=POLICY,
    )
    app = create_router_app(settings)
    async with app.router.lifespan_context(app):
        await positioned(app.state.router.consumer, "router partition assignment")
        desktop = getattr(app.state, "desktop", None)
        if desktop is not None:  # transcripts: where the agent reads the customer's follow-ups
            await positioned(desktop.consumer, "desktop feed assignment")
        producer = make_producer(bootstrap)
        await producer.start()
        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://router") as http,
            Watch(bootstrap, topics.ROUTING, topics.AGENTS) as routing,
            Watch(bootstrap, topics.DEADLETTER) as deadletter,
        ):
            yield Harness(http=http, router=app.state.router, producer=producer, routing=routing,
                          deadletter=deadletter)
        await producer.stop()


@pytest.fixture
async def sink():
    s = Sink()
    server = await asyncio.get_running_loop().create_server(lambda: SMTP(s, hostname="relay.test"), "127.0.0.1", 0)
    s.port = server.sockets[0].getsockname()[1]
    yield s
    server.close()


@pytest.fixture
async def gateway(infra, harness, sink):
    bootstrap = addr(infra, "kafka_bootstrap")
    async with Watch(bootstrap, topics.CONTACTS) as contacts, Watch(bootstrap, topics.MESSAGES) as messages:
        app, ctx = await start_gateway(gateway_settings(infra, sink))
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://email") as http:
                yield Gateway(app=app, http=http, contacts=contacts, messages=messages)
        finally:
            await ctx.__aexit__(None, None, None)


@pytest.fixture
def dovecot():
    require_tool("dovecot")
    server = Dovecot()
    server.start()
    yield server
    server.stop()
