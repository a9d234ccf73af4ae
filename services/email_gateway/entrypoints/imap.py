"""IMAP polling mode: every `imap_poll_s`, unseen mail in the support mailbox goes through
the same intake as SMTP mail; it is marked \\Seen only once accepted or dead-lettered,
so a crash or an outage means it is read again, never lost."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from shared import logging as log

from ..adapters.imap import ImapMailbox
from ..domain.inbound import Inbound, Verdict

logger = log.get("email-gateway.imap")


class ImapPoller:
    def __init__(self, mailbox: ImapMailbox, recipient: str, max_bytes: int,
                 accept: Callable[[Inbound], Awaitable[Verdict]],
                 reject: Callable[[Inbound, str], Awaitable[Verdict]], interval_s: float):
        self.mailbox, self.recipient, self.max_bytes = mailbox, recipient, max_bytes
        self.accept, self.reject, self.interval_s = accept, reject, interval_s
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

    async def run(self) -> None:
        delay = self.interval_s
        while True:
            try:
                await self.poll_once()
                delay = self.interval_s
            except Exception as exc:  # server down or login refused: back off and reconnect
                logger.warning("imap_poll_failed", error=repr(exc), retry_in=delay)
                await self.mailbox.close()
                delay = min(max(delay, 1.0) * 2, 300.0)
            await asyncio.sleep(delay)
