"""Accepting a mail safely, whatever the protocol it came by: the raw bytes are spooled
in Redis before anything else, and leave the spool only once Kafka acknowledged the
contact event, or once they are on the dead-letter topic. Nothing accepted is lost."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import AIOKafkaProducer

from shared import logging as log
from shared.consumer_loop import TRANSIENT

from . import handlers, metrics
from .adapters.deadletter import dead_letter_mail
from .domain.parsing import Unparseable

logger = log.get("email-gateway.intake")


@dataclass(frozen=True)
class Verdict:
    status: str  # accepted | dead_lettered | unparseable | retry
    detail: str
    outcome: handlers.Outcome | None = None


async def accept(inbound: handlers.Inbound, deps: handlers.Deps, producer: AIOKafkaProducer,
                 spool_id: str | None = None) -> Verdict:
    try:
        spool_id = spool_id or await deps.cases.spool(inbound.raw, {
            "recipient": inbound.recipient, "sender": inbound.envelope_sender or "", "source": inbound.source,
            "known_sender": "1" if inbound.envelope_sender is not None else "0"})
    except TRANSIENT as exc:
        return _count(inbound, Verdict("retry", f"spool unavailable: {exc!r}"))
    verdict = await _process(inbound, deps, producer, spool_id)
    # A 4xx leaves the mail with its sender (SMTP) or unseen in the mailbox (IMAP), who
    # try again; only the sweeper's own retries keep the spooled copy.
    if not (verdict.status == "retry" and inbound.source == "spool"):
        await _unspool(deps, spool_id)
    return _count(inbound, verdict)


async def _process(inbound, deps, producer, spool_id) -> Verdict:
    try:
        outcome = await handlers.receive_mail(inbound, deps)
        logger.info("mail_accepted", kind=outcome.kind, case_id=outcome.case_id, contact_id=outcome.contact_id,
                    ack=outcome.ack, source=inbound.source)
        return Verdict("accepted", outcome.kind, outcome)
    except Unparseable as exc:
        if inbound.source == "smtp":  # the sending MTA bounces it to the customer
            return Verdict("unparseable", str(exc))
        return await _dead_letter(inbound, producer, str(exc), spool_id)
    except TRANSIENT as exc:  # (a cancel at shutdown leaves the spooled copy to the sweeper)
        return Verdict("retry", f"temporarily unable to route: {exc!r}")
    except Exception as exc:  # a bug must not lose an accepted mail
        logger.exception("mail_failed", source=inbound.source)
        return await _dead_letter(inbound, producer, f"processing failed: {exc!r}", spool_id)


async def _dead_letter(inbound, producer, reason: str, key: str) -> Verdict:
    try:
        await dead_letter_mail(producer, inbound.raw, reason, key=key, origin=inbound.source)
    except TRANSIENT as exc:
        return Verdict("retry", f"dead-letter unavailable: {exc!r}")
    logger.warning("mail_dead_lettered", reason=reason, source=inbound.source)
    return Verdict("dead_lettered", reason)


async def _unspool(deps, spool_id: str) -> None:
    try:
        await deps.cases.unspool(spool_id)
    except TRANSIENT:
        logger.warning("unspool_failed", spool_id=spool_id)  # the sweeper's dedupe covers it


def _count(inbound, verdict: Verdict) -> Verdict:
    kind = verdict.outcome.kind if verdict.outcome else verdict.status
    metrics.RECEIVED.labels(source=inbound.source, outcome=kind).inc()
    return verdict


async def reject(inbound: handlers.Inbound, producer: AIOKafkaProducer, reason: str) -> Verdict:
    """Mail that can be neither refused nor routed (e.g. oversized in an IMAP mailbox)."""
    return _count(inbound, await _dead_letter(inbound, producer, reason, key="rejected"))
