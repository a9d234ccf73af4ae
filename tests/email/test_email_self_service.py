"""Self-service by mail: the acknowledgement carries the queue's articles that match
the customer's mail (BM25 over the policy's knowledge), and the offer is counted."""

from __future__ import annotations

import pytest

from shared import topics
from shared.policy import DEFAULT_POLICY_FILE
from tests.email.helpers import gateway_settings, start_gateway, swaks
from tests.support.kafka_watch import Watch

pytestmark = pytest.mark.email


async def test_the_acknowledgement_offers_the_articles_that_match(infra, harness, sink):
    settings = gateway_settings(infra, sink, policy_file=DEFAULT_POLICY_FILE)  # the default policy's articles
    async with Watch(harness.service.settings.kafka_bootstrap, topics.CONTACTS) as contacts:
        app, ctx = await start_gateway(settings)
        try:
            r = await swaks(app.state.service.smtp_port, "--header", "Subject: Locked out",
                            "--body", "I forgot my password and cannot sign in.", sender="gus@example.com")
            assert r.code == 0, r.transcript
            ack = await sink.wait("gus@example.com")
            body = ack.get_body(preferencelist=("plain",)).get_content()
            assert "These answers may help while you wait:" in body
            assert "1. How do I reset my password?" in body and "Forgot password" in body
            created = await contacts.wait("contact.created")
            offered = await contacts.wait("deflection.offered", id=f"ack-{created.data.id}")
            assert (offered.data.queue, offered.data.channel, offered.data.articles[0]) == \
                ("support", "email", "reset-password")

            r = await swaks(app.state.service.smtp_port, "--header", "Subject: Hello", "--body", "zxqv wobble",
                            sender="hal@example.com")
            assert r.code == 0, r.transcript
            plain = (await sink.wait("hal@example.com")).get_body(preferencelist=("plain",)).get_content()
            assert "These answers may help" not in plain  # nothing matched: nothing offered
        finally:
            await ctx.__aexit__(None, None, None)
