"""IMAP intake: unseen mail in the support mailbox goes through the same intake as SMTP
mail, as soon as the server says it arrived (IDLE) or every `imap_poll_s` where it
can't; a message is marked \\Seen only once accepted or dead-lettered, so a crash or an
outage means it is read again, never lost."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from shared import logging as log

from ..adapters.imap import ImapMailbox
from ..domain.inbound import Inbound, Verdict

logger = log.get("email-gateway.imap")
RETRY_FIRST_S, RETRY_MAX_S = 1.0, 300.0  # reconnecting after a failure backs off between these


class ImapPoller:
    def __init__(self, mailbox: ImapMailbox, recipient: str, max_bytes: int,
                 accept: Callable[[Inbound], Awaitable[Verdict]],
                 reject: Callable[[Inbound, str], Awaitable[Verdict]], interval_s: float, idle: bool = True):
        self.mailbox, self.recipient, self.max_bytes = mailbox, recipient, max_bytes
        self.accept, self.reject, self.interval_s, self.idle = accept, reject, interval_s, idle
        self.polls = 0

    async def poll_once(self) -> int:
        if self.mailbox.client is None:
            await self.mailbox.connect()
        done = 0
        for uid in await self.mailbox.unseen():
            raw = await self.mailbox.fetch(uid)
            if raw is None:
                continue
            inbound = Inbound(raw=raw, recipient=self.recipient, envelope_sender=None, source="imap")
            if len(raw) > self.max_bytes:
                # A message already in the mailbox can't be refused: dead-letter it with the reason.
                verdict = await self.reject(inbound, f"message size {len(raw)} exceeds {self.max_bytes} bytes")
            else:
                verdict = await self.accept(inbound)
            if verdict.status == "retry":
                logger.warning("imap_message_deferred", uid=uid, detail=verdict.detail)
                continue
            await self.mailbox.mark_seen(uid)
            done += 1
        self.polls += 1
        return done

    async def wait(self) -> None:
        """Until the next look: news from the server (IDLE), else the poll interval."""
        if self.idle and self.mailbox.can_idle():
            await self.mailbox.wait_for_mail(self.interval_s)
        else:
            await asyncio.sleep(self.interval_s)

    async def run(self) -> None:
        backoff = RETRY_FIRST_S
        while True:
            try:
                await self.poll_once()
                backoff = RETRY_FIRST_S
                await self.wait()
            except Exception as exc:  # server down or login refused: back off and reconnect
                logger.warning("imap_poll_failed", error=repr(exc), retry_in=backoff)
                await self.mailbox.close()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, RETRY_MAX_S)
