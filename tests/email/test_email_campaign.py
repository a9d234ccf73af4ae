"""An email campaign end to end: the router paces one message per target, the email
gateway sends each through the relay (an aiosmtpd sink) on a case of its own, an address
on the do-not-contact list gets nothing, and a customer's reply (swaks) comes back as an
inbound contact on that case, routed like any mail."""

from __future__ import annotations

import pytest

from tests.email.helpers import swaks
from tests.support.poll import until
from tests.support.router_harness import ADMIN

pytestmark = pytest.mark.email


async def test_one_message_per_target_and_the_reply_is_routed_like_inbound_mail(harness, gateway, sink):
    r = await harness.http.post("/v1/do-not-contact", headers=ADMIN, json={"addresses": ["dora@example.com"]})
    assert r.status_code == 204, r.text
    targets = [{"id": "ann", "email": "ann@example.com", "name": "Ann"},
               {"id": "bob", "email": "bob@example.com", "name": "Bob"},
               {"id": "dora", "email": "dora@example.com", "name": "Dora"}]
    r = await harness.http.post("/v1/campaigns", headers=ADMIN, json={
        "id": "spring", "channel": "email", "queue": "email", "intent": "general", "send_per_s": 20,
        "subject": "Your plan renews soon", "body": "Hello {name}, your plan renews next month.",
        "targets": targets})
    assert r.status_code == 201, r.text

    to_ann = await sink.wait("ann@example.com")
    assert to_ann["Subject"].startswith("Your plan renews soon")
    assert "Hello Ann, your plan renews next month." in to_ann.get_body(preferencelist=("plain",)).get_content()
    assert to_ann["List-Unsubscribe"] == f"<mailto:{gateway.app.state.service.settings.sender}?subject=unsubscribe>"
    assert "Hello Bob" in (await sink.wait("bob@example.com")).get_body(preferencelist=("plain",)).get_content()
    progress = await until(lambda: _finished(harness), 20, what="the campaign finished")
    assert progress["outcomes"] == {"sent": 2, "do_not_contact": 1} and progress["attempts"] == 2
    assert sink.to("dora@example.com") == [] and len(sink.to("ann@example.com")) == 1

    # Ann answers the campaign's mail: a contact on the case the message opened, routed.
    case = to_ann["X-Omniroute-Case"]
    r = await swaks(gateway.smtp_port, "--header", f"Subject: Re: {to_ann['Subject']}",
                    "--header", f"In-Reply-To: {to_ann['Message-ID']}", "--body", "Can I switch plans first?",
                    sender="ann@example.com")
    assert r.code == 0, r.transcript
    created = await until(lambda: [e.data for e in gateway.contacts.of("contact.created")
                                   if e.data.conversation_id == case], 20, what="the reply as a contact")
    queued = await harness.routing.wait("contact.queued", contact_id=created[0].id)
    assert queued.data.queue == "email"


async def _finished(harness) -> dict | None:
    r = await harness.http.get("/v1/campaigns/spring", headers=ADMIN)
    return r.json() if r.status_code == 200 and r.json()["state"] == "finished" else None
