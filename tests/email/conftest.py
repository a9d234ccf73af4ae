"""Email end-to-end fixtures: a real router and the email gateway in-process on the real
Kafka + Redis, an aiosmtpd sink standing in for the outbound relay, and a dovecot IMAP
server started from a generated config (tests/email/dovecot.py)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from aiosmtpd.smtp import SMTP

from shared import topics
from tests.email.dovecot import Dovecot
from tests.email.helpers import (
    POLICY,
    Gateway,
    Sink,
    addr,
    gateway_settings,
    require_tool,
    start_gateway,
)
from tests.integration.conftest import redis  # noqa: F401 -- a flushed Redis per test
from tests.support.kafka_watch import Watch
from tests.support.router_harness import running_router


@pytest.fixture
async def harness(infra, redis):  # noqa: F811
    """A real router on the email test policy (email queue needs the `email` skill)."""
    async with running_router(infra, policy_file=POLICY) as h:
        yield h


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
