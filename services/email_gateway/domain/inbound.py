"""A mail as it arrives, and what became of it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Inbound:
    raw: bytes
    recipient: str  # the support address it was sent to
    envelope_sender: str | None  # MAIL FROM; None when unknown (IMAP)
    source: str  # smtp | imap | spool


@dataclass(frozen=True)
class Outcome:
    kind: str  # created | follow_up | reopened | duplicate
    case_id: str
    contact_id: str
    ack: str = "none"  # sent | suppressed:<reason> | none


@dataclass(frozen=True)
class Verdict:
    """The answer the mail's protocol gives: SMTP 250/4xx/5xx, IMAP seen or not."""

    status: str  # accepted | dead_lettered | unparseable | retry
    detail: str
    outcome: Outcome | None = None
