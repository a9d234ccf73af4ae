"""Outbound mail: the automatic acknowledgement and an agent's reply. Pure builders;
the relay adapter sends what they return."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from shared.events import utcnow
from shared.knowledge import Suggestion

from .threading import references_for_reply, tag_subject


@dataclass(frozen=True)
class CaseView:
    """What composing needs to know about a case."""

    case_id: str
    customer: str
    subject: str
    chain: list[str]  # known message ids of the thread, oldest first
    last_customer_msgid: str | None


def _base(sender: str, case: CaseView, domain: str, name: str = "") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = Address(display_name=name, addr_spec=sender)
    msg["To"] = case.customer
    msg["Subject"] = tag_subject(case.subject, case.case_id)
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = make_msgid(idstring=case.case_id, domain=domain)
    msg["X-Omniroute-Case"] = case.case_id
    in_reply_to, refs = references_for_reply(case.chain, case.last_customer_msgid)
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if refs:
        msg["References"] = " ".join(refs)
    return msg


def acknowledgement(sender: str, case: CaseView, expected: str, domain: str, closed_note: str = "",
                    articles: Sequence[Suggestion] = (), wait_note: str = "") -> EmailMessage:
    """`closed_note`: outside opening hours, the hours and when we open again;
    `articles`: self-service answers that match the mail; `wait_note`: a long queue."""
    msg = _base(sender, case, domain)
    # RFC 3834: mark it automatic so well-behaved responders don't answer it.
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(
        f"Thank you for contacting us. We have received your message.\n\n"
        + (f"{closed_note}\n\n" if closed_note else "") +
        f"Your case reference is {case.case_id}. We aim to respond {expected}.\n"
        + (f"{wait_note}\n" if wait_note else "") +
        f"Reply to this email to add to your case; keep [#{case.case_id}] in the subject.\n"
        + _answers(articles)
    )
    return msg


def wait_note(position: int, wait_s: float) -> str:
    """A long queue, said plainly: the customer's place and the router's estimate."""
    ahead = "Yours is next in line" if position <= 1 else (
        "1 message is ahead of yours" if position == 2 else f"{position - 1} messages are ahead of yours")
    minutes = max(1, round(wait_s / 60))
    if minutes >= 120:
        when = f"about {round(minutes / 60)} hours"
    else:
        minutes = round(minutes / 10) * 10 if minutes >= 20 else minutes
        when = f"about {minutes} minute{'s' if minutes > 1 else ''}"
    return f"Many customers are writing to us just now. {ahead}; we expect to answer in {when}."


def _answers(articles: Sequence[Suggestion]) -> str:
    if not articles:
        return ""
    items = [f"{n}. {a.question}\n   {a.answer}" + (f"\n   {a.url}" if a.url else "") for n, a in enumerate(articles, 1)]
    return "\nThese answers may help while you wait:\n\n" + "\n\n".join(items) + "\n"


def callback_promise(sender: str, case: CaseView, domain: str) -> EmailMessage:
    """The case left the live queue (full, or waited too long): say so, and that we'll
    come back to the customer."""
    msg = _base(sender, case, domain)
    msg["Auto-Submitted"] = "auto-replied"  # RFC 3834, as the acknowledgement
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(
        f"All our agents are busy right now, so we could not take your message in time.\n\n"
        f"We have kept it under case {case.case_id} and will get back to you.\n"
        f"Reply to this email to add to your case; keep [#{case.case_id}] in the subject.\n"
    )
    return msg


def survey(sender: str, case: CaseView, link: str, domain: str) -> EmailMessage:
    """After completion: one short mail with the signed survey link, on the case's thread."""
    msg = _base(sender, case, domain)
    msg.replace_header("Subject", tag_subject(case.subject, case.case_id, prefix="How did we do?"))
    # RFC 3834: not a reply to a mail but still automatic, so responders stay quiet.
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(
        f"How did we do?\n\nYour case {case.case_id} is closed. Please rate the help you got from 1 to 5;\n"
        f"it takes a few seconds:\n\n{link}\n"
    )
    return msg


def campaign(sender: str, case: CaseView, body: str, domain: str) -> EmailMessage:
    """An outbound campaign's message: opens the case's thread, so a reply comes back as
    an inbound contact on it. Bulk mail says how to stop it (RFC 2369 List-Unsubscribe)."""
    msg = _base(sender, case, domain)
    msg.replace_header("Subject", tag_subject(case.subject, case.case_id, prefix=""))  # it opens the thread
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: responders stay quiet
    msg["List-Unsubscribe"] = f"<mailto:{sender}?subject=unsubscribe>"
    msg.set_content(f"{body}\n\n--\nReply to this mail to reach us. Case {case.case_id}\n")
    return msg


def reply(sender: str, case: CaseView, text: str, author: str, domain: str) -> EmailMessage:
    msg = _base(sender, case, domain, name=author)
    msg.set_content(f"{text}\n\n--\nCase {case.case_id}\n")
    return msg
