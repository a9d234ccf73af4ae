"""Inbound SMTP (aiosmtpd) on the service's own event loop: recipients are checked at
RCPT (550), size at DATA (aiosmtpd answers 552 over `data_size_limit`), and 250 is
answered only after Kafka acknowledged the contact event."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable

from aiosmtpd.smtp import SMTP, Envelope, Session

from ..domain.inbound import Inbound, Verdict

REPLIES = {
    "accepted": "250 2.0.0 Message accepted",
    "dead_lettered": "250 2.0.0 Message accepted for manual handling",
    "unparseable": "554 5.6.0 Message could not be parsed: {detail}",
    "retry": "451 4.3.0 Temporarily unable to accept the message, try again later",
}


class SupportInbox:
    """aiosmtpd handler for the configured support addresses."""

    def __init__(self, addresses: set[str], accept: Callable[[Inbound], Awaitable[Verdict]]):
        self.addresses = {a.lower() for a in addresses}
        self.accept = accept

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options):
        if address.lower() not in self.addresses:
            return f"550 5.1.1 <{address}>: Recipient address rejected: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope):
        raw = envelope.original_content or b""
        sender = "" if envelope.mail_from in (None, "<>") else envelope.mail_from
        verdict = await self.accept(Inbound(raw=raw, recipient=envelope.rcpt_tos[0].lower(),
                                            envelope_sender=sender, source="smtp"))
        return REPLIES[verdict.status].format(detail=verdict.detail.replace("\r", " ").replace("\n", " ")[:200])


async def serve(inbox: SupportInbox, host: str, port: int, max_bytes: int, hostname: str,
                tls: ssl.SSLContext | None = None, require_tls: bool = False) -> asyncio.Server:
    """STARTTLS is offered with a `tls` context; `require_tls` refuses mail before it (530)."""
    loop = asyncio.get_running_loop()

    def protocol() -> SMTP:
        return SMTP(inbox, data_size_limit=max_bytes, enable_SMTPUTF8=True, hostname=hostname,
                    ident="Omniroute ESMTP", timeout=120, tls_context=tls, require_starttls=require_tls)

    return await loop.create_server(protocol, host=host, port=port)
