"""Loop protection (RFC 3834): when an automatic acknowledgement must not be sent."""

from __future__ import annotations

from .parsing import ParsedEmail

BULK_PRECEDENCE = {"bulk", "list", "junk"}
ROBOT_LOCALPARTS = {"mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply"}
SUPPRESS_ALL = {"all", "autoreply", "oof"}  # Microsoft's X-Auto-Response-Suppress values


def no_ack_reason(mail: ParsedEmail, envelope_sender: str | None, own_addresses: set[str]) -> str | None:
    """Why this mail gets no auto-ack, or None when acknowledging it is safe.

    `envelope_sender` is SMTP's MAIL FROM ("" for a bounce), None when unknown (IMAP),
    in which case the Return-Path header stands in for it.
    """
    h = mail.headers
    auto = h.get("auto-submitted", "").strip().lower()
    if auto and auto != "no":
        return "auto_submitted"
    if h.get("precedence", "").strip().lower() in BULK_PRECEDENCE:
        return "precedence"
    if h.get("list-id") or h.get("list-unsubscribe"):
        return "mailing_list"
    if {s.strip().lower() for s in h.get("x-auto-response-suppress", "").split(",")} & SUPPRESS_ALL:
        return "suppressed_by_sender"
    sender = envelope_sender if envelope_sender is not None else h.get("return-path")
    if sender is not None and sender.strip().strip("<>") == "":
        return "null_sender"  # a bounce: answering it is how loops start
    for addr in {mail.from_addr, (sender or "").strip().strip("<>").lower()} - {""}:
        if addr.split("@")[0] in ROBOT_LOCALPARTS:
            return "mailer_daemon"
        if addr in own_addresses:
            return "own_address"
    if not mail.from_addr:
        return "no_sender"
    return None
