"""Pure email logic: parsing, HTML reduction, threading, loop protection, composing."""

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.email_gateway.domain import compose, sla
from services.email_gateway.domain.loops import no_ack_reason
from services.email_gateway.domain.parsing import Unparseable, html_to_text, parse
from shared.policy import domain_policy
from services.email_gateway.domain.threading import (
    case_refs,
    match_case,
    references_for_reply,
    tag_subject,
)
from services.email_gateway.handlers.mail import customer_id
from shared.policy import DEFAULT_POLICY_FILE as DEFAULT_POLICY

pytestmark = pytest.mark.unit

OURS = {"support@acme.test"}


def mail(**headers) -> bytes:
    body = headers.pop("body", "Hello, my order is late.")
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "Ann Customer <ann@example.com>")
    msg["To"] = "support@acme.test"
    msg["Subject"] = headers.pop("Subject", "Order 77")
    msg["Message-ID"] = headers.pop("Message_ID", "<m1@example.com>")
    for k, v in headers.items():
        msg[k.replace("_", "-")] = v
    msg.set_content(body)
    return msg.as_bytes()


def test_plain_mail_parses_addresses_threading_and_text():
    p = parse(mail(In_Reply_To="<a@x>", References="<root@x> <a@x>"))
    assert (p.from_addr, p.from_name, p.subject) == ("ann@example.com", "Ann Customer", "Order 77")
    assert p.message_id == "<m1@example.com>"
    assert p.in_reply_to == ["<a@x>"] and p.references == ["<root@x>", "<a@x>"]
    assert p.text == "Hello, my order is late."
    assert p.defects == [] and p.attachments == []


def test_html_only_mail_becomes_safe_text_and_attachments_are_metadata():
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "bob@example.com", "support@acme.test", "Broken"
    msg.set_content("<html><head><style>p{}</style><script>alert(1)</script></head>"
                    "<body><p>Hi &amp; <b>help</b></p><div>line two<img src=x onerror=alert(2)></div></body></html>",
                    subtype="html")
    msg.add_attachment(b"\x89PNG" * 100, maintype="image", subtype="png", filename="shot.png")
    p = parse(msg.as_bytes())
    assert p.text == "Hi & help\n\nline two"
    assert "<" not in p.text and "alert" not in p.text
    assert [(a.filename, a.content_type, a.size) for a in p.attachments] == [("shot.png", "image/png", 400)]


def test_html_to_text_drops_markup_even_when_unbalanced():
    assert html_to_text("<p>a<script>x<p>b</script>c") == "ac"  # script content is never text
    assert html_to_text("&lt;script&gt;") == "<script>"  # text, shown as text


def test_broken_mime_is_flagged_not_refused():
    raw = (b"From: c@example.com\r\nTo: support@acme.test\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed\r\n\r\nno boundary at all\r\n")
    p = parse(raw)
    assert p.from_addr == "c@example.com"
    assert p.defects  # e.g. NoBoundaryInMultipartDefect


def test_bytes_without_headers_are_unparseable():
    with pytest.raises(Unparseable):
        parse(b"\r\n\r\njust a body")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_parse_never_raises_anything_but_unparseable(raw):
    try:
        parse(raw)
    except Unparseable:
        pass


def test_case_reference_in_subject_and_tagging():
    assert case_refs("Re: Order [#C-1042] and [#C-7]") == ["C-1042", "C-7"]
    assert tag_subject("RE: Fwd: Order 77 [#C-1042]", "C-1042") == "Re: Order 77 [#C-1042]"
    assert tag_subject("", "C-1") == "Re: Your request [#C-1]"


def test_headers_thread_before_subject_and_subject_needs_the_owner():
    p = parse(mail(Subject="Re: late [#C-2000]", In_Reply_To="<ack@acme>"))
    assert match_case(p, {"<ack@acme>": "C-1001"}, {"C-2000": "ann@example.com"}).case_id == "C-1001"
    by_subject = match_case(p, {}, {"C-2000": "ann@example.com"})
    assert (by_subject.case_id, by_subject.via) == ("C-2000", "subject")
    assert match_case(p, {}, {"C-2000": "mallory@example.com"}) is None


def test_reply_references_keep_root_and_end_with_the_answered_message():
    chain = [f"<{i}@x>" for i in range(30)]
    irt, refs = references_for_reply(chain, "<5@x>")
    assert irt == "<5@x>" and refs[0] == "<0@x>" and refs[-1] == "<5@x>" and len(refs) == 20


@pytest.mark.parametrize("headers,sender,reason", [
    ({"Auto_Submitted": "auto-replied"}, "ann@example.com", "auto_submitted"),
    ({"Auto_Submitted": "no"}, "ann@example.com", None),
    ({"Precedence": "bulk"}, "ann@example.com", "precedence"),
    ({"Precedence": "junk"}, "ann@example.com", "precedence"),
    ({"List_Id": "<news.example.com>"}, "ann@example.com", "mailing_list"),
    ({"X_Auto_Response_Suppress": "OOF, AutoReply"}, "ann@example.com", "suppressed_by_sender"),
    ({"From": "MAILER-DAEMON@example.com"}, "", "null_sender"),
    ({"From": "MAILER-DAEMON@example.com"}, "mailer-daemon@example.com", "mailer_daemon"),
    ({"From": "support@acme.test"}, "support@acme.test", "own_address"),
    ({}, "ann@example.com", None),
])
def test_loop_protection(headers, sender, reason):
    assert no_ack_reason(parse(mail(**headers)), sender, OURS) == reason


def test_imap_mail_uses_return_path_for_the_envelope_sender():
    assert no_ack_reason(parse(mail(Return_Path="<>")), None, OURS) == "null_sender"
    assert no_ack_reason(parse(mail()), None, OURS) is None


def test_ack_is_threaded_auto_submitted_and_names_case_and_sla():
    view = compose.CaseView("C-1042", "ann@example.com", "Order 77", ["<m1@example.com>"], "<m1@example.com>")
    routing = domain_policy(DEFAULT_POLICY)
    expected = sla.humanize(sla.first_response_s(routing, "general"))
    assert expected == "within 4 hours"
    msg = BytesParser(policy=policy.default).parsebytes(
        compose.acknowledgement("support@acme.test", view, expected, "acme.test").as_bytes())
    assert msg["Subject"] == "Re: Order 77 [#C-1042]"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["In-Reply-To"] == "<m1@example.com>" and msg["References"] == "<m1@example.com>"
    assert "C-1042" in msg.get_content() and "within 4 hours" in msg.get_content()
    assert msg["Message-ID"].endswith("@acme.test>")


def test_survey_mail_is_threaded_auto_generated_and_carries_the_link():
    view = compose.CaseView("C-1042", "ann@example.com", "Re: Order 77 [#C-1042]",
                            ["<m1@example.com>", "<ack@acme.test>"], "<m1@example.com>")
    link = "http://router/survey/C-1042.1?t=abc"
    msg = BytesParser(policy=policy.default).parsebytes(
        compose.survey("support@acme.test", view, link, "acme.test").as_bytes())
    assert msg["Subject"] == "How did we do? Order 77 [#C-1042]"
    assert msg["Auto-Submitted"] == "auto-generated" and msg["X-Omniroute-Case"] == "C-1042"
    assert msg["In-Reply-To"] == "<m1@example.com>" and msg["References"] == "<ack@acme.test> <m1@example.com>"
    assert link in msg.get_content() and "C-1042" in msg.get_content()
    assert case_refs(f"Re: {msg['Subject']}") == ["C-1042"]  # a reply to it joins the case


def test_sla_text():
    assert sla.humanize(7200) == "within 2 hours"
    assert sla.humanize(90) == "within 2 minutes"
    assert sla.humanize(None) == "as soon as possible"


def test_customer_id_fits_the_event_id_alphabet():
    assert customer_id("Ann@Example.com") == "email:ann@example.com"
    assert customer_id("weird name@example.com").startswith("email:") and " " not in customer_id("a b@x")
