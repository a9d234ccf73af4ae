"""The email gateway's use cases as plain functions taking their dependencies:
inbound mail -> contact (or follow-up), routing events -> case state, agent message ->
reply mail, and the first-response SLA check."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from shared import logging as log
from shared.clock import now_ms
from shared.cloudevents import Envelope
from shared.consumer_loop import Rejected
from shared.events import (
    EMAIL,
    CampaignMessageRequested,
    ContactCreated,
    ContactUpdated,
    Customer,
    DeflectionOffered,
    MessagePosted,
    event_type,
)
from shared.survey import survey_url

from ..adapters import metrics
from ..adapters.cases import CaseStore
from ..adapters.smtp_relay import PermanentFailure
from ..domain import compose, sla
from ..domain.inbound import Inbound, Outcome
from ..domain.loops import no_ack_reason
from ..domain.parsing import ParsedEmail, parse
from ..domain.threading import CaseMatch, case_refs, match_case, thread_ids
from .deps import EmailDeps

logger = log.get("email-gateway")


# -- inbound mail ------------------------------------------------------------------------
async def receive_mail(inbound: Inbound, deps: EmailDeps) -> Outcome:
    """Parse, thread and publish; returns after Kafka acknowledged. Raises Unparseable."""
    mail = parse(inbound.raw)
    if mail.message_id and (done := await deps.cases.seen_inbound(mail.message_id)):
        return Outcome("duplicate", done.rsplit(".", 1)[0], done)
    match = await _match(mail, deps.cases)
    if match and (open_contact := await deps.cases.open_contact(match.case_id)):
        return await _follow_up(mail, match, open_contact, deps)
    return await _new_contact(mail, inbound, match, deps)


async def _match(mail: ParsedEmail, cases: CaseStore) -> CaseMatch | None:
    known = await cases.cases_for_messages(thread_ids(mail))
    owners = await cases.owners(case_refs(mail.subject))
    return match_case(mail, known, owners)


async def _follow_up(mail: ParsedEmail, match: CaseMatch, contact_id: str, deps: EmailDeps) -> Outcome:
    """A customer writes again while the case is being handled: it reaches the same agent."""
    await deps.publisher.post_message(_message(mail, match.case_id, contact_id))
    await deps.publisher.update_contact(ContactUpdated(contact_id=contact_id, metadata={
        "last_message_id": mail.message_id or "", "last_subject": mail.subject,
        "last_received_at": datetime.now(UTC).isoformat(), "follow_up": True,
        "attachments": _attachments(mail),
    }))
    await _remember(mail, match.case_id, contact_id, deps.cases)
    return Outcome("follow_up", match.case_id, contact_id)


async def _new_contact(mail: ParsedEmail, inbound: Inbound, match: CaseMatch | None, deps: EmailDeps) -> Outcome:
    s, cases = deps.settings, deps.cases
    intent = s.email_addresses.get(inbound.recipient.lower(), "general")
    if match:
        case_id = match.case_id
    else:
        case_id = await cases.new_case({"customer": mail.from_addr, "name": mail.from_name,
                                        "subject": mail.subject, "intent": intent})
    ack_block = await _ack_blocker(mail, inbound, deps)
    # Remembered on the contact: whom we never acknowledge gets no survey either.
    contact_id = await cases.new_contact(case_id, auto_ack=f"suppressed:{ack_block}" if ack_block else "sent")
    promise = sla.promise(deps.policy, intent, datetime.now(UTC))  # from the opening when closed
    due_ms = promise.due_ms
    contact = ContactCreated(
        id=contact_id, channel=EMAIL, intent=intent, conversation_id=case_id,
        customer=Customer(id=customer_id(mail.from_addr or inbound.envelope_sender or "unknown"),
                          address=mail.from_addr, name=mail.from_name[:200] or None),
        metadata=_metadata(mail, case_id, due_ms, ack_block, inbound, reopened=bool(match)),
    )
    await deps.publisher.submit_contact(contact)
    await deps.publisher.post_message(_message(mail, case_id, contact_id))
    await _remember(mail, case_id, contact_id, cases)
    await cases.update_case(case_id, contact=contact_id)  # last: the case is recorded (promise_callback)
    if due_ms:
        await cases.schedule_due(contact_id, due_ms)
    if ack_block:
        metrics.ACK_SUPPRESSED.labels(reason=ack_block).inc()
    else:
        deps.spawn(send_ack(case_id, contact_id, intent, mail, promise, deps))
    kind = "reopened" if match else "created"
    return Outcome(kind, case_id, contact_id, f"suppressed:{ack_block}" if ack_block else "sent")


async def _ack_blocker(mail: ParsedEmail, inbound: Inbound, deps: EmailDeps) -> str | None:
    reason = no_ack_reason(mail, inbound.envelope_sender, set(deps.settings.email_addresses))
    if reason is None and not await deps.cases.allow_ack(
            mail.from_addr, deps.settings.email_ack_limit, deps.settings.email_ack_window_s):
        reason = "rate_limited"
    return reason


async def _remember(mail: ParsedEmail, case_id: str, contact_id: str, cases: CaseStore) -> None:
    if mail.message_id:
        await cases.remember_customer_mail(case_id, mail.message_id, contact_id)


def _message(mail: ParsedEmail, case_id: str, contact_id: str) -> MessagePosted:
    text = mail.text or "(no text)"
    if mail.subject:
        text = f"Subject: {mail.subject}\n\n{text}"
    return MessagePosted(message_id=_message_id(mail), conversation_id=case_id, contact_id=contact_id,
                         sender="customer", author=(mail.from_name or mail.from_addr)[:200], text=text[:20000])


def _message_id(mail: ParsedEmail) -> str:
    """The event's message id: derived from Message-ID so a redelivered mail dedupes."""
    basis = mail.message_id or uuid.uuid4().hex
    return "em-" + hashlib.sha256(basis.encode()).hexdigest()[:32]


def _attachments(mail: ParsedEmail) -> list[dict]:
    return [{"filename": a.filename, "content_type": a.content_type, "size": a.size} for a in mail.attachments]


def _metadata(mail: ParsedEmail, case_id: str, due_ms: int | None, ack_block: str | None,
              inbound: Inbound, reopened: bool) -> dict:
    meta = {
        "case_id": case_id, "subject": mail.subject, "message_id": mail.message_id or "",
        "from": mail.from_addr, "to": inbound.recipient, "source": inbound.source,
        "text_preview": mail.text[:500], "attachments": _attachments(mail),
        "auto_ack": f"suppressed:{ack_block}" if ack_block else "sent", "reopened": reopened,
    }
    if due_ms:
        meta["first_response_due"] = datetime.fromtimestamp(due_ms / 1000, UTC).isoformat()
    if mail.defects:
        meta["mime_defects"] = mail.defects[:20]  # accepted, but flagged for the agent
    if mail.truncated:
        meta["text_truncated"] = True
    return meta


def customer_id(address: str) -> str:
    """A stable customer id from the address (the event Id alphabet is narrow)."""
    address = address.strip().lower()
    if re.fullmatch(r"[a-z0-9._:@+\-]{1,120}", address):
        return f"email:{address}"
    return "email:" + hashlib.sha256(address.encode()).hexdigest()[:32]


# -- outbound mail -----------------------------------------------------------------------
async def _case_view(case_id: str, cases: CaseStore) -> compose.CaseView | None:
    case = await cases.case(case_id)
    if not case:
        return None
    return compose.CaseView(case_id=case_id, customer=case.get("customer", ""), subject=case.get("subject", ""),
                            chain=await cases.chain(case_id),
                            last_customer_msgid=case.get("last_customer_msgid") or None)


async def send_ack(case_id: str, contact_id: str, intent: str, mail: ParsedEmail, promise: sla.Promise,
                   deps: EmailDeps) -> None:
    """Background: the customer's mail is already accepted, so a failed ack is logged, not
    retried. It carries the queue's articles that match the mail (self-service)."""
    s = deps.settings
    queue = deps.policy.queue_for(intent, EMAIL)
    articles = deps.knowledge.suggest(queue, f"{mail.subject}\n{mail.text[:4000]}")
    note = await _long_wait_note(contact_id, deps)
    sent = await _send_automatic("ack", case_id, deps, lambda view: compose.acknowledgement(
        s.sender, view, promise.expected, s.email_hostname, promise.closed_note, articles, note))
    if sent and articles:
        await deps.publisher.emit("deflection.offered", DeflectionOffered(
            id=f"ack-{contact_id}", queue=queue, channel=EMAIL, intent=intent, articles=[a.id for a in articles]),
            key=contact_id)


async def _long_wait_note(contact_id: str, deps: EmailDeps) -> str:
    """The router's place and estimate, once its contact.queued is in (or it routed the
    contact otherwise, or the wait ran out), said only when the queue is long."""
    s = deps.settings
    deadline = asyncio.get_running_loop().time() + s.email_estimate_wait_s
    while True:
        contact = await deps.cases.contact(contact_id) or {}
        if "estimated_wait_s" in contact or contact.get("state", "new") != "new":
            break
        if asyncio.get_running_loop().time() >= deadline:
            return ""
        await asyncio.sleep(0.05)
    wait_s = float(contact.get("estimated_wait_s", -1))
    if wait_s < s.email_wait_notice_s:
        return ""
    return compose.wait_note(int(contact.get("position", 1)), wait_s)


async def send_survey(case_id: str, contact_id: str, deps: EmailDeps) -> None:
    """Background, like the ack: the completion is recorded; a failed survey mail is logged."""
    s = deps.settings
    link = survey_url(s.survey_base_url, s.survey_secret.get_secret_value(), contact_id, s.domain)
    await _send_automatic("survey", case_id, deps, lambda view: compose.survey(s.sender, view, link, s.email_hostname))


async def _send_automatic(kind: str, case_id: str, deps: EmailDeps, build: Callable[[compose.CaseView], object]) -> bool:
    try:
        msg = build(await _case_view(case_id, deps.cases))
        # Remember our Message-ID first: a quick customer reply must thread onto the case.
        await deps.cases.remember_message(case_id, msg["Message-ID"])
        await deps.smtp_relay.send(msg, deps.settings.sender)
        metrics.SENT.labels(kind=kind, result="ok").inc()
        return True
    except Exception:
        metrics.SENT.labels(kind=kind, result="error").inc()
        logger.exception(f"auto_{kind}_failed", case_id=case_id)
        return False


async def agent_message(m: MessagePosted, deps: EmailDeps) -> str:
    """An agent wrote on an email conversation: send it as a threaded reply."""
    view = await _case_view(m.conversation_id, deps.cases)
    if view is None:
        return "not_email"
    if not view.customer:
        raise Rejected(f"case {m.conversation_id} has no customer address to reply to")
    if not await deps.cases.claim_send(m.message_id):
        return "already_sent"
    s = deps.settings
    msg = compose.reply(s.sender, view, m.text, m.author, s.email_hostname)
    try:
        await deps.cases.remember_message(view.case_id, msg["Message-ID"])
        await deps.smtp_relay.send(msg, s.sender)
    except PermanentFailure as exc:
        metrics.SENT.labels(kind="reply", result="refused").inc()
        raise Rejected(str(exc)) from exc
    except BaseException:
        await deps.cases.release_send(m.message_id)  # let the consumer loop's retry send it
        metrics.SENT.labels(kind="reply", result="error").inc()
        raise
    metrics.SENT.labels(kind="reply", result="ok").inc()
    if m.contact_id:
        await deps.cases.clear_due(m.contact_id)  # first response given
    return "sent"


async def campaign_message(m: CampaignMessageRequested, deps: EmailDeps) -> str:
    """An email campaign's message to one target: it opens a case, so a reply threads onto
    it and becomes a contact like any inbound mail. Sent once, whichever replica reads it."""
    if not await deps.cases.claim_send(f"campaign:{m.campaign_id}:{m.target_id}"):
        return "already_sent"
    s = deps.settings
    case_id = await deps.cases.new_case({"customer": m.to, "name": m.name, "subject": m.subject, "intent": m.intent,
                                         "campaign": m.campaign_id})
    msg = compose.campaign(s.sender, await _case_view(case_id, deps.cases), m.body, s.email_hostname)
    try:
        await deps.cases.remember_message(case_id, msg["Message-ID"])
        await deps.smtp_relay.send(msg, s.sender)
    except PermanentFailure as exc:
        metrics.SENT.labels(kind="campaign", result="refused").inc()
        raise Rejected(str(exc)) from exc  # dead-lettered with the relay's answer
    except BaseException:
        await deps.cases.release_send(f"campaign:{m.campaign_id}:{m.target_id}")  # the consumer loop retries
        metrics.SENT.labels(kind="campaign", result="error").inc()
        raise
    metrics.SENT.labels(kind="campaign", result="ok").inc()
    return "sent"


# -- routing events ----------------------------------------------------------------------
ROUTING_STATES = {
    event_type("contact.queued"): "queued",
    event_type("offer.issued"): "offered",
    event_type("contact.requeued"): "queued",
    event_type("contact.transferred"): "queued",  # the agent handed it on: the case moves with it
    event_type("contact.deferred"): "scheduled",  # outside hours: queued at the opening
    event_type("contact.assigned"): "assigned",
    event_type("contact.completed"): "completed",
    event_type("contact.abandoned"): "abandoned",
    event_type("contact.overflowed"): "overflowed",  # left the queue as a callback request
}
CLOSED = {"completed", "abandoned", "overflowed"}
RECORDED_POLLS = 50  # 0.1 s apart


def _estimate(env: Envelope) -> dict:
    """contact.queued's place and estimated wait, for the acknowledgement (written with the
    state, which it looks for too)."""
    if env.type != event_type("contact.queued") or env.data.estimated_wait_s is None:
        return {}
    return {"position": env.data.position or 1, "estimated_wait_s": env.data.estimated_wait_s}


async def routing_event(env: Envelope, deps: EmailDeps) -> str:
    state = ROUTING_STATES[env.type]
    contact_id = env.data.contact_id
    agent = getattr(env.data, "agent_id", None) if state == "assigned" else None
    case_id, applied = await deps.cases.set_contact_state(contact_id, state, agent, env.sequence, _estimate(env))
    if case_id is None:
        return "not_email"
    if not applied:
        return "stale"  # a late event: the contact has moved on since
    if state in CLOSED:
        await deps.cases.clear_due(contact_id)
    if state == "completed":
        await offer_survey(case_id, contact_id, deps)
    if state == "overflowed":
        await promise_callback(case_id, contact_id, deps)
    return state


async def promise_callback(case_id: str, contact_id: str, deps: EmailDeps) -> None:
    """Tell the sender we'll come back to them, if we acknowledge them at all (RFC 3834)."""
    contact = await deps.cases.contact(contact_id) or {}
    if contact.get("auto_ack") == "sent":
        deps.spawn(_promise_once_recorded(case_id, contact_id, deps))


async def _promise_once_recorded(case_id: str, contact_id: str, deps: EmailDeps) -> None:
    """A queue that takes nobody overflows within milliseconds, maybe before the intake
    has recorded the mail that opened the contact: wait for it (briefly), so the promise
    threads onto that mail."""
    for _ in range(RECORDED_POLLS):
        if ((await deps.cases.case(case_id)) or {}).get("contact") == contact_id:
            break
        await asyncio.sleep(0.1)
    s = deps.settings
    await _send_automatic("callback", case_id, deps, lambda view: compose.callback_promise(s.sender, view, s.email_hostname))


async def offer_survey(case_id: str, contact_id: str, deps: EmailDeps) -> str:
    """One survey mail per completed contact, and only to senders we acknowledge (RFC 3834
    loop protection: no robots, lists or bounces)."""
    if not deps.settings.survey_base_url:
        return "off"
    contact = await deps.cases.contact(contact_id) or {}
    decision = contact.get("auto_ack") or "suppressed:unknown"  # sent | suppressed:<reason>
    if not await deps.cases.decide_survey(contact_id, decision):
        return "already_decided"
    if decision == "sent":
        deps.spawn(send_survey(case_id, contact_id, deps))
    else:
        metrics.SURVEY_SUPPRESSED.labels(reason=decision.removeprefix("suppressed:")).inc()
    return decision


async def handle(env: Envelope, deps: EmailDeps) -> str:
    if env.type in ROUTING_STATES:
        return await routing_event(env, deps)
    if env.type == event_type("message.posted") and env.data.sender == "agent":
        return await agent_message(env.data, deps)
    if env.type == event_type("campaign.message_requested"):
        return await campaign_message(env.data, deps)
    return "ignored"


# -- first-response SLA ------------------------------------------------------------------
async def escalate_overdue(deps: EmailDeps) -> int:
    """Contacts past their first-response due time without an agent reply escalate once."""
    fired = 0
    for contact_id in await deps.cases.due(now_ms()):
        if not await deps.cases.claim_due(contact_id):
            continue  # another replica took it
        contact = await deps.cases.contact(contact_id) or {}
        if contact.get("state") in CLOSED:
            continue
        try:
            await deps.publisher.update_contact(ContactUpdated(contact_id=contact_id, escalate=True, metadata={
                "sla_breached": True, "sla_breached_at": datetime.now(UTC).isoformat()}))
        except BaseException:
            with contextlib.suppress(Exception):
                await deps.cases.schedule_due(contact_id, now_ms())  # try again next tick
            raise
        metrics.SLA_ESCALATIONS.inc()
        fired += 1
    return fired
