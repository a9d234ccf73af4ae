"""Email channel end to end: swaks sends, the gateway threads and publishes, a real router
routes, an SMTP sink receives what the gateway sends, dovecot serves the IMAP mode."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from services.email_gateway.handlers import mail
from shared import topics
from tests.email.dovecot import PASSWORD, USER
from tests.email.helpers import SUPPORT, URGENT, gateway_settings, start_gateway, swaks
from tests.support.kafka_watch import Watch
from tests.support.poll import until
from tests.support.router_harness import ADMIN

pytestmark = pytest.mark.email

CASE = re.compile(r"\[#(C-\d+)\]")


def header_args(**headers: str) -> list[str]:
    args = []
    for name, value in headers.items():
        args += ["--header", f"{name.replace('_', '-')}: {value}"]
    return args


async def new_mail(gateway, msgid: str, subject: str = "Order 77 is late", body: str = "Where is my parcel?",
                   sender: str = "ann@example.com", to: str = SUPPORT, **headers):
    r = await swaks(gateway.smtp_port, *header_args(Subject=subject, Message_Id=msgid, **headers),
                    "--body", body, to=to, sender=sender)
    assert r.code == 0, r.transcript
    assert "<-  250 2.0.0 Message accepted" in r.transcript, r.transcript
    return await gateway.wait_created(message_id=msgid)


async def accept_offer(harness, contact_id: str, auth: dict, agent: str) -> None:
    offer = await harness.routing.wait("offer.issued", contact_id=contact_id)
    assert offer.data.agent_id == agent
    r = await harness.http.post(f"/v1/offers/{offer.data.offer_id}/accept", headers=auth)
    assert r.status_code == 200, r.text
    await harness.routing.wait("contact.assigned", contact_id=contact_id)


async def test_mail_is_routed_acknowledged_threaded_and_answered(harness, gateway, sink):
    await harness.agent("sam", {"support": 5}, channels=["email"])  # no email skill: never offered
    erin = await harness.agent("erin", {"email": 3}, channels=["email"])

    contact = await new_mail(gateway, "<order-77@example.com>")
    case_id = contact.conversation_id
    assert contact.channel == "email" and contact.id == f"{case_id}.1"
    assert contact.customer.address == "ann@example.com"
    assert contact.metadata["subject"] == "Order 77 is late" and contact.metadata["auto_ack"] == "sent"
    await accept_offer(harness, contact.id, erin, "erin")

    # the acknowledgement: case reference, the queue's SLA, threaded on the customer's mail
    ack = await sink.wait("ann@example.com", f"[#{case_id}]")
    assert ack["Subject"] == f"Re: Order 77 is late [#{case_id}]"
    assert ack["In-Reply-To"] == "<order-77@example.com>"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert "within 4 hours" in ack.get_content() and case_id in ack.get_content()
    assert sink.envelopes[0] == (SUPPORT, ["ann@example.com"])

    # the customer answers the acknowledgement: same case, same contact, same agent
    r = await swaks(gateway.smtp_port, *header_args(
        Subject=f"Re: Order 77 is late [#{case_id}]", Message_Id="<order-77-2@example.com>",
        In_Reply_To=ack["Message-ID"], References=f"<order-77@example.com> {ack['Message-ID']}"),
        "--body", "Tracking number is 4711.")
    assert r.code == 0, r.transcript
    follow = await gateway.messages.wait("message.posted", contact_id=contact.id,
                                         text=f"Subject: Re: Order 77 is late [#{case_id}]\n\nTracking number is 4711.")
    assert follow.data.sender == "customer" and follow.data.conversation_id == case_id
    updated = await gateway.contacts.wait("contact.updated", contact_id=contact.id)
    assert updated.data.metadata["last_message_id"] == "<order-77-2@example.com>"
    assert len(gateway.created()) == 1  # no second contact
    transcript = await until(lambda: _transcript_has(harness, contact.id, erin, "4711"), what="follow-up in transcript")
    assert any("4711" in m["text"] for m in transcript)

    # the agent replies through the API: threaded on the customer's last mail
    r = await harness.http.post(f"/v1/contacts/{contact.id}/messages", headers=erin,
                                json={"text": "It ships today."})
    assert r.status_code == 202, r.text
    reply = await sink.wait("ann@example.com", f"[#{case_id}]", count=2)
    assert reply["In-Reply-To"] == "<order-77-2@example.com>"
    refs = reply["References"].split()
    assert refs[0] == "<order-77@example.com>" and ack["Message-ID"] in refs and refs[-1] == "<order-77-2@example.com>"
    assert reply["Subject"] == f"Re: Order 77 is late [#{case_id}]"
    assert "It ships today." in reply.get_content() and "Erin" in str(reply["From"])
    assert reply["Auto-Submitted"] is None
    # the first response was given: no SLA escalation will fire for it
    assert await harness.redis.zscore("em:{mail}:due", contact.id) is None


async def _transcript_has(harness, contact_id, auth, text):
    r = await harness.http.get(f"/v1/contacts/{contact_id}/transcript", headers=auth)
    return r.status_code == 200 and [m for m in r.json() if text in m.get("text", "")] and r.json()


async def test_follow_up_on_a_closed_case_is_a_new_contact_on_the_same_conversation(harness, gateway, sink):
    erin = await harness.agent("erin", {"email": 3}, channels=["email"])
    fay = await harness.agent("fay", {"email": 3}, channels=["email"], login=False)
    first = await new_mail(gateway, "<refund-1@example.com>", subject="Refund")
    case_id = first.conversation_id
    await accept_offer(harness, first.id, erin, "erin")
    ack = await sink.wait("ann@example.com", f"[#{case_id}]")
    # fay is idle longer than erin will be: by longest-idle alone the follow-up would be hers
    r = await harness.http.post("/v1/agents/fay/login", headers=fay)
    assert r.status_code == 200, r.text
    r = await harness.http.post(f"/v1/contacts/{first.id}/complete", headers=erin, json={"disposition": "solved"})
    assert r.status_code == 200, r.text
    await until(lambda: _contact_state(harness, first.id, "completed"), what="gateway saw completion")

    # subject reference only (no threading headers), from the case's customer
    again = await new_mail(gateway, "<refund-2@example.com>", subject=f"Re: Refund [#{case_id}]")
    assert again.conversation_id == case_id and again.id == f"{case_id}.2"
    assert again.metadata["reopened"] is True
    offer = await harness.routing.wait("offer.issued", contact_id=again.id)
    assert offer.data.agent_id == "erin"
    ack2 = await sink.wait("ann@example.com", f"Re: Refund [#{case_id}]", count=2)  # not the survey mail
    assert ack2["In-Reply-To"] == "<refund-2@example.com>" and ack["Message-ID"] in ack2["References"]

    # a stranger quoting the case number does not join it
    stranger = await new_mail(gateway, "<refund-3@example.com>", subject=f"Re: Refund [#{case_id}]",
                              sender="mallory@example.com")
    assert stranger.conversation_id != case_id


async def _contact_state(harness, contact_id, state):
    return (await harness.redis.hget(f"em:{{mail}}:contact:{contact_id}", "state")) == state.encode()


async def test_completed_contact_gets_one_survey_mail_whose_link_records_the_answer(harness, gateway, sink):
    erin = await harness.agent("erin", {"email": 3}, channels=["email"])
    contact = await new_mail(gateway, "<late-1@example.com>", subject="Parcel late")
    case_id = contact.conversation_id
    await accept_offer(harness, contact.id, erin, "erin")
    ack = await sink.wait("ann@example.com", f"Re: Parcel late [#{case_id}]")
    bot = await new_mail(gateway, "<ooo-9@example.com>", subject="Out of office", sender="bob@example.com",
                         Auto_Submitted="auto-replied")
    await accept_offer(harness, bot.id, erin, "erin")
    for done in (contact, bot):
        r = await harness.http.post(f"/v1/contacts/{done.id}/complete", headers=erin, json={"disposition": "solved"})
        assert r.status_code == 200, r.text

    # one short mail on the case's thread, automatic, with the signed link
    survey = await sink.wait("ann@example.com", "How did we do?")
    assert survey["Subject"] == f"How did we do? Parcel late [#{case_id}]"
    assert survey["Auto-Submitted"] == "auto-generated" and survey["X-Omniroute-Case"] == case_id
    assert survey["In-Reply-To"] == "<late-1@example.com>"
    assert survey["References"].split() == [ack["Message-ID"], "<late-1@example.com>"]
    link = re.search(r"http://router/survey/\S+", survey.get_content()).group(0)
    assert urlsplit(link).path == f"/survey/{contact.id}"
    # loop protection: the auto-replier whose mail we never acknowledged gets no survey
    await until(lambda: _survey_decision(harness, bot.id, "suppressed:auto_submitted"), what="bot's survey decision")
    assert sink.to("bob@example.com") == []
    # a redelivered completion decides nothing new: one survey mail per contact
    assert await _survey_decision(harness, contact.id, "sent")
    assert await mail.offer_survey(case_id, contact.id, gateway.app.state.service.deps) == "already_decided"

    # the customer follows the link: the router's page, then the form
    page = await harness.http.get(link)
    assert page.status_code == 200 and "How did we do?" in page.text
    token = parse_qs(urlsplit(link).query)["t"][0]
    r = await harness.http.post(urlsplit(link).path, data={"t": token, "score": "5", "comment": "Fast, thanks"})
    assert r.status_code == 201 and "Thank you" in r.text, r.text
    answer = await gateway.contacts.wait("survey.submitted", contact_id=contact.id)
    assert (answer.data.score, answer.data.comment, answer.data.complaint) == (5, "Fast, thanks", False)
    again = await harness.http.post(urlsplit(link).path, data={"t": token, "score": "1"})
    assert again.status_code == 409
    assert len(sink.to("ann@example.com", "How did we do?")) == 1


async def _survey_decision(harness, contact_id, decision):
    return (await harness.redis.hget(f"em:{{mail}}:contact:{contact_id}", "survey")) == decision.encode()


async def test_a_mail_the_queue_cannot_take_is_acknowledged_with_a_promise_to_come_back(harness, gateway, sink):
    doc = (await harness.http.get("/v1/policy", headers=ADMIN)).json()["policy"]
    for queue in doc["queues"].values():  # nobody may wait: no agent is logged in
        queue |= {"max_waiting": 0, "overflow_action": "callback", "overflow_queue": None}
    assert (await harness.http.put("/v1/policy", headers=ADMIN, json=doc)).status_code == 200
    contact = await new_mail(gateway, "<busy-1@example.com>", subject="Broken router")
    overflowed = await harness.routing.wait("contact.overflowed", contact_id=contact.id)
    assert overflowed.data.action == "callback"
    promise = await until(lambda: [m for m in sink.mails if "could not take your message" in m.get_content()],
                          20, what="the callback mail")
    mail_ = promise[0]
    assert mail_["Subject"] == f"Re: Broken router [#{contact.conversation_id}]"
    assert mail_["In-Reply-To"] == "<busy-1@example.com>" and mail_["Auto-Submitted"] == "auto-replied"
    await until(lambda: _contact_state(harness, contact.id, "overflowed"), what="the case records the overflow")


async def test_auto_replies_get_no_acknowledgement_and_acks_are_rate_limited(harness, gateway, sink):
    bot = await new_mail(gateway, "<ooo-1@example.com>", subject="Out of office", sender="bob@example.com",
                         Auto_Submitted="auto-replied")
    assert bot.metadata["auto_ack"] == "suppressed:auto_submitted"
    bulk = await new_mail(gateway, "<news-1@example.com>", subject="Newsletter", sender="news@example.com",
                          Precedence="bulk")
    assert bulk.metadata["auto_ack"] == "suppressed:precedence"
    daemon = await new_mail(gateway, "<dsn-1@example.com>", subject="Undelivered Mail",
                            sender="MAILER-DAEMON@example.com")
    assert daemon.metadata["auto_ack"] == "suppressed:mailer_daemon"
    # limit is 3 per window: the 4th mail from one sender is routed but not acknowledged
    for i in range(4):
        c = await new_mail(gateway, f"<flood-{i}@example.com>", subject=f"Help {i}", sender="carl@example.com")
    assert c.metadata["auto_ack"] == "suppressed:rate_limited"
    await sink.wait("carl@example.com", count=3)
    # the acks after the suppressed mails arrived, so none for them is in flight
    assert sink.to("bob@example.com") == [] and sink.to("news@example.com") == []
    assert sink.to("MAILER-DAEMON@example.com") == [] and sink.to("mailer-daemon@example.com") == []
    assert len(sink.to("carl@example.com")) == 3


async def test_bad_input_gets_protocol_errors_and_broken_mime_is_flagged(harness, gateway, sink, tmp_path):
    r = await swaks(gateway.smtp_port, "--body", "hello", to="nobody@acme.test")
    assert r.code != 0 and "<** 550 5.1.1" in r.transcript, r.transcript

    big = tmp_path / "big.txt"
    big.write_text(("x" * 70 + "\n") * 4000)  # ~284 kB > 200 kB limit
    r = await swaks(gateway.smtp_port, *header_args(Subject="Huge", Message_Id="<huge@example.com>"),
                    "--attach", f"@{big}")
    assert r.code != 0 and "<** 552" in r.transcript, r.transcript
    assert "SIZE 200000" in r.transcript  # advertised in EHLO

    r = await swaks(gateway.smtp_port, "--data", "\r\n\r\nno headers at all\r\n")
    assert r.code != 0 and "<** 554 5.6.0" in r.transcript, r.transcript

    broken = (f"From: dan@example.com\r\nTo: {SUPPORT}\r\nSubject: Broken\r\nMessage-ID: <broken@example.com>\r\n"
              "MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\nno boundary here\r\n")
    r = await swaks(gateway.smtp_port, "--data", broken, sender="dan@example.com")
    assert r.code == 0, r.transcript
    flagged = await gateway.wait_created(message_id="<broken@example.com>")
    assert flagged.metadata["mime_defects"]
    # the refused mails never became contacts
    assert gateway.created(message_id="<huge@example.com>") == []
    assert [c.data.metadata["message_id"] for c in gateway.contacts.of("contact.created")] == ["<broken@example.com>"]
    assert (await harness.redis.zcard("em:{mail}:spool")) == 0  # nothing left half-done


async def test_first_response_due_escalates_the_contact(harness, gateway, sink):
    contact = await new_mail(gateway, "<urgent-1@example.com>", subject="Server down", to=URGENT)
    assert contact.metadata["first_response_due"]
    update = await gateway.contacts.wait("contact.updated", contact_id=contact.id, escalate=True)
    assert update.data.metadata["sla_breached"] is True
    escalated = await harness.routing.wait("contact.escalated", contact_id=contact.id)
    assert escalated.data.queue == "urgent"
    # once: the due entry is gone after firing
    assert await harness.redis.zscore("em:{mail}:due", contact.id) is None
    ack = await sink.wait("ann@example.com", "Server down")
    assert "within 1 second" in ack.get_content()


async def test_a_mail_sent_twice_is_one_contact(harness, gateway, sink):
    first = await new_mail(gateway, "<twice@example.com>", subject="Twice")
    r = await swaks(gateway.smtp_port, *header_args(Subject="Twice", Message_Id="<twice@example.com>"), "--body", "x")
    assert r.code == 0 and "<-  250 2.0.0" in r.transcript, r.transcript  # the retry succeeds...
    sentinel = await new_mail(gateway, "<after-twice@example.com>", subject="After")
    assert [c.id for c in gateway.created()] == [first.id, sentinel.id]  # ...but routes nothing new


async def test_mail_spooled_before_a_crash_is_routed_by_the_sweeper(harness, gateway, sink):
    """A crash between spooling and publishing leaves the raw mail in Redis: it is retried."""
    cases = gateway.app.state.service.deps.cases
    raw = (b"From: Gil <gil@example.com>\r\nTo: support@acme.test\r\nSubject: Lost?\r\n"
           b"Message-ID: <spooled@example.com>\r\n\r\nStill there?\r\n")
    spool_id = await cases.spool(raw, {"recipient": SUPPORT, "sender": "gil@example.com", "source": "smtp",
                                       "known_sender": "1"})
    await harness.redis.zadd("em:{mail}:spool", {spool_id: 0})  # as if spooled long ago
    contact = await gateway.wait_created(message_id="<spooled@example.com>")
    assert contact.customer.address == "gil@example.com"
    await until(lambda: _spool_empty(harness), what="spool emptied")


async def _spool_empty(harness):
    return await harness.redis.zcard("em:{mail}:spool") == 0


async def test_health_and_metrics(gateway):
    r = await gateway.http.get("/readyz")
    assert r.status_code == 200 and r.json()["ready"] is True
    await swaks(gateway.smtp_port, "--body", "x", to="nobody@acme.test")
    metrics = (await gateway.http.get("/metrics/")).text
    assert "omniroute_email_received_total" in metrics


async def test_imap_mailbox_is_polled_routed_and_marked_seen(infra, harness, sink, dovecot):
    erin = await harness.agent("erin", {"email": 3}, channels=["email"])
    settings = gateway_settings(infra, sink, imap_host="127.0.0.1", imap_port=dovecot.port, imap_security="none",
                                imap_user=USER, imap_password=PASSWORD, imap_poll_s=0.2, imap_idle=False,
                                email_max_bytes=50_000)
    bootstrap = harness.service.settings.kafka_bootstrap
    async with Watch(bootstrap, topics.CONTACTS) as contacts:
        app, ctx = await start_gateway(settings)
        try:
            raw = (b"From: Ivy <ivy@example.com>\r\nTo: support@acme.test\r\nSubject: Invoice copy\r\n"
                   b"Message-ID: <imap-1@example.com>\r\n\r\nPlease resend invoice 12.\r\n")
            await _in_thread(dovecot.append, raw)
            await _in_thread(dovecot.append, b"From: x@example.com\r\nSubject: big\r\n\r\n" + b"y" * 60_000)
            created = await until(lambda: [e.data for e in contacts.of("contact.created")
                                           if e.data.metadata.get("message_id") == "<imap-1@example.com>"],
                                  what="IMAP contact")
            contact = created[0]
            assert contact.metadata["source"] == "imap" and contact.customer.address == "ivy@example.com"
            await accept_offer(harness, contact.id, erin, "erin")
            await sink.wait("ivy@example.com", f"[#{contact.conversation_id}]")
            dead = (await until(lambda: [r for r in harness.deadletter.raw
                                         if dict(r.headers).get("omniroute_dlq_origin") == b"imap"],
                                what="oversized IMAP mail dead-lettered"))[0]
            assert b"exceeds 50000" in dict(dead.headers)["omniroute_dlq_reason"]
            flags = await until(lambda: _all_seen(dovecot), what="both messages marked \\Seen")
            assert len(flags) == 2
        finally:
            await ctx.__aexit__(None, None, None)


async def _in_thread(fn, *args):
    return await asyncio.to_thread(fn, *args)


async def _all_seen(dovecot):
    flags = await _in_thread(dovecot.flags)
    return flags if flags and all("\\Seen" in f for f in flags) else None
