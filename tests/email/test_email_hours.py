"""Mail to a closed queue (hours of operation; the router's clock injected): swaks sends,
the acknowledgement gives the hours and the next opening, the first-response clock starts
at the opening, and the router queues the mail only then."""

from __future__ import annotations

import datetime as dt
import time

import httpx
import pytest

from shared import topics
from tests.email.helpers import POLICY, Gateway, gateway_settings, start_gateway
from tests.email.test_email_e2e import new_mail
from tests.routing.world import Clock
from tests.support.hours import closed_policy
from tests.support.kafka_watch import Watch
from tests.support.router_harness import infra_address, running_router

pytestmark = pytest.mark.email
SLA_MS = 4 * 3_600_000  # tests/email/policy.yaml: email in 4 hours


@pytest.fixture
def closed(tmp_path):
    return closed_policy(tmp_path / "policy", base=POLICY)


@pytest.fixture
def clock():
    return Clock(now=int(time.time() * 1000))


@pytest.fixture
async def harness(infra, redis, closed, clock):  # noqa: F811 -- the email fixtures' router, closed
    async with running_router(infra, clock=clock, policy_file=closed.file) as h:
        yield h


@pytest.fixture
async def closed_gateway(infra, harness, sink, closed):
    bootstrap = infra_address(infra, "kafka_bootstrap")
    async with Watch(bootstrap, topics.CONTACTS) as contacts, Watch(bootstrap, topics.MESSAGES) as messages:
        app, ctx = await start_gateway(gateway_settings(infra, sink, policy_file=closed.file))
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://email") as http:
                yield Gateway(app=app, http=http, contacts=contacts, messages=messages)
        finally:
            await ctx.__aexit__(None, None, None)


async def test_mail_after_hours_is_acknowledged_with_the_hours_and_queued_at_the_opening(
        harness, closed_gateway, sink, closed, clock):
    contact = await new_mail(closed_gateway, "<late-night@example.com>", subject="Invoice question")
    due = dt.datetime.fromisoformat(contact.metadata["first_response_due"])
    assert int(due.timestamp() * 1000) == closed.opens_at_ms + SLA_MS  # the SLA runs from the opening
    deferred = await harness.routing.wait("contact.deferred", contact_id=contact.id)
    assert (deferred.data.action, deferred.data.opens_at_ms) == ("wait", closed.opens_at_ms)

    ack = await sink.wait("ann@example.com", f"[#{contact.conversation_id}]")
    text = ack.get_content()
    assert "outside our opening hours (mon-sun " in text
    assert f"We open again {closed.opens_at:%A %d %B %Y at %H:%M} UTC" in text
    assert "within 4 hours of opening" in text

    clock.now = closed.opens_at_ms + 1  # the queue opens
    queued = await harness.routing.wait("contact.queued", contact_id=contact.id)
    assert queued.data.queue == "email"
    r = await harness.http.get(f"/v1/contacts/{contact.id}", headers={"Authorization": "Bearer test-admin-token"})
    assert r.json()["state"] == "queued" and int(r.json()["enqueued_at"]) == closed.opens_at_ms
