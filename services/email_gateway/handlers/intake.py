"""Accepting a mail safely, whatever the protocol it came by: the raw bytes are spooled
in Redis before anything else, and leave the spool only once Kafka acknowledged the
contact event, or once they are on the dead-letter topic. Nothing accepted is lost."""

from __future__ import annotations

from shared import logging as log
from shared.clock import now_ms
from shared.consumer_loop import TRANSIENT, is_transient

from ..adapters import metrics
from ..adapters.deadletter import dead_letter_mail
from ..domain.inbound import Inbound, Verdict
from ..domain.parsing import Unparseable
from . import mail
from .deps import EmailDeps

logger = log.get("email-gateway.intake")


async def accept(inbound: Inbound, deps: EmailDeps, spool_id: str | None = None) -> Verdict:
    try:
        spool_id = spool_id or await deps.cases.spool(inbound.raw, {
            "recipient": inbound.recipient, "sender": inbound.envelope_sender or "", "source": inbound.source,
            "known_sender": "1" if inbound.envelope_sender is not None else "0"})
    except TRANSIENT as exc:
        return _count(inbound, Verdict("retry", f"spool unavailable: {exc!r}"))
    verdict = await _process(inbound, deps, spool_id)
    # A 4xx leaves the mail with its sender (SMTP) or unseen in the mailbox (IMAP), who
    # try again; only the sweeper's own retries keep the spooled copy.
    if not (verdict.status == "retry" and inbound.source == "spool"):
        await _unspool(deps, spool_id)
    return _count(inbound, verdict)


async def _process(inbound: Inbound, deps: EmailDeps, spool_id: str) -> Verdict:
    try:
        outcome = await mail.receive_mail(inbound, deps)
        logger.info("mail_accepted", kind=outcome.kind, case_id=outcome.case_id, contact_id=outcome.contact_id,
                    ack=outcome.ack, source=inbound.source)
        return Verdict("accepted", outcome.kind, outcome)
    except Unparseable as exc:
        if inbound.source == "smtp":  # the sending MTA bounces it to the customer
            return Verdict("unparseable", str(exc))
        return await _dead_letter(inbound, deps, str(exc), spool_id)
    except Exception as exc:
        if is_transient(exc):  # Redis or Kafka away: 451 (a cancel at shutdown leaves the spooled copy)
            return Verdict("retry", f"temporarily unable to route: {exc!r}")
        logger.exception("mail_failed", source=inbound.source)  # a bug must not lose an accepted mail
        return await _dead_letter(inbound, deps, f"processing failed: {exc!r}", spool_id)


async def _dead_letter(inbound: Inbound, deps: EmailDeps, reason: str, key: str) -> Verdict:
    try:
        await dead_letter_mail(deps.publisher.producer, inbound.raw, reason, key=key, origin=inbound.source)
    except Exception as exc:
        if not is_transient(exc):
            raise
        return Verdict("retry", f"dead-letter unavailable: {exc!r}")
    logger.warning("mail_dead_lettered", reason=reason, source=inbound.source)
    return Verdict("dead_lettered", reason)


async def _unspool(deps: EmailDeps, spool_id: str) -> None:
    try:
        await deps.cases.unspool(spool_id)
    except TRANSIENT:
        logger.warning("unspool_failed", spool_id=spool_id)  # the sweeper's dedupe covers it


def _count(inbound: Inbound, verdict: Verdict) -> Verdict:
    kind = verdict.outcome.kind if verdict.outcome else verdict.status
    metrics.RECEIVED.labels(source=inbound.source, outcome=kind).inc()
    return verdict


async def reject(inbound: Inbound, deps: EmailDeps, reason: str) -> Verdict:
    """Mail that can be neither refused nor routed (e.g. oversized in an IMAP mailbox)."""
    return _count(inbound, await _dead_letter(inbound, deps, reason, key="rejected"))


async def retry_spooled(deps: EmailDeps) -> int:
    """Spooled mail left behind (a crash between spool and publish) goes through again."""
    s = deps.settings
    retry_ms = int(s.email_spool_retry_s * 1000)
    stale = await deps.cases.stale_spool(now_ms() - retry_ms, lease_ms=retry_ms)
    for spool_id, raw, meta in stale:
        sender = meta.get("sender", "") if meta.get("known_sender") == "1" else None
        inbound = Inbound(raw=raw, recipient=meta.get("recipient", s.sender), envelope_sender=sender, source="spool")
        verdict = await accept(inbound, deps, spool_id=spool_id)
        logger.info("spool_retried", spool_id=spool_id, status=verdict.status)
    return len(stale)
