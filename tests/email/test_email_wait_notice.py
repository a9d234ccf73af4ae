"""A long queue, said in the acknowledgement: the gateway waits briefly for the router's
contact.queued and, when the estimated wait is long (here: half a minute or more), tells the
customer their place and the wait; a short queue's acknowledgement says nothing of it."""

from __future__ import annotations

import pytest

from services.email_gateway.domain.compose import wait_note
from tests.email.helpers import gateway_settings, start_gateway, swaks

pytestmark = pytest.mark.email


async def test_the_acknowledgement_tells_a_long_wait(infra, harness, sink):
    eve = await harness.agent("eve", {"email": 1}, channels=["email"], capacity=20)  # one mail at a time
    busy = await harness.contact(channel="email", intent="general")
    offer = await harness.routing.wait("offer.issued", contact_id=busy)
    assert (await harness.http.post(f"/v1/offers/{offer.data.offer_id}/accept", headers=eve)).status_code == 200
    app, ctx = await start_gateway(gateway_settings(infra, sink, email_wait_notice_s=30))
    try:
        r = await swaks(app.state.service.smtp_port, "--header", "Subject: Invoice", "--body", "Where is it?",
                        sender="kim@example.com")
        assert r.code == 0, r.transcript
        body = (await sink.wait("kim@example.com")).get_body(preferencelist=("plain",)).get_content()
        # Eve is busy; the router's default handle time (3 min) over the 5 mails an agent takes at once.
        assert "Many customers are writing to us just now. Yours is next in line; we expect to answer in " \
               "about 1 minute." in body
        r = await swaks(app.state.service.smtp_port, "--header", "Subject: Invoice 2", "--body", "And this one?",
                        sender="lou@example.com")
        assert r.code == 0, r.transcript
        body = (await sink.wait("lou@example.com")).get_body(preferencelist=("plain",)).get_content()
        assert "1 message is ahead of yours; we expect to answer in about 1 minute." in body
    finally:
        await ctx.__aexit__(None, None, None)


async def test_a_short_wait_is_not_mentioned(infra, harness, sink):
    await harness.agent("eve", {"email": 1}, channels=["email"], capacity=20)  # free
    app, ctx = await start_gateway(gateway_settings(infra, sink, email_wait_notice_s=30))
    try:
        r = await swaks(app.state.service.smtp_port, "--header", "Subject: Hi", "--body", "Quick one", sender="max@example.com")
        assert r.code == 0, r.transcript
        body = (await sink.wait("max@example.com")).get_body(preferencelist=("plain",)).get_content()
        assert "We aim to respond" in body and "Many customers" not in body
    finally:
        await ctx.__aexit__(None, None, None)


def test_waits_are_said_in_round_figures():
    assert wait_note(1, 50) == ("Many customers are writing to us just now. Yours is next in line; "
                                "we expect to answer in about 1 minute.")
    assert wait_note(12, 1_740).endswith("11 messages are ahead of yours; we expect to answer in about 30 minutes.")
    assert wait_note(40, 5 * 3600).endswith("we expect to answer in about 5 hours.")
