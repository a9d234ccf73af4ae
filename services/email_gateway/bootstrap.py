"""The one wiring point: the email gateway (a ChannelGateway) with its SMTP server, IMAP
poller, event handlers, SLA timer and spool sweeper."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from services.router.bootstrap import read_policy_file
from services.router.domain.policy import Policy
from shared import logging as log
from shared.cloudevents import Envelope
from shared.events import EMAIL
from shared.gateway import ChannelGateway
from shared.lifecycle import cancel_tasks, stop_within

from . import handlers, intake
from .adapters.cases import CaseStore, now_ms
from .adapters.imap import ImapMailbox
from .adapters.relay import Relay
from .entrypoints import smtp
from .entrypoints.imap import ImapPoller
from .settings import EmailSettings

logger = log.get("email-gateway")


def load_policy(path) -> Policy:
    """The router's policy file, read-only (with the router's own reader): queue SLAs set
    the response times."""
    return read_policy_file(path)[1]


class EmailGateway(ChannelGateway):
    channel = EMAIL

    def __init__(self, settings: EmailSettings, redis: Redis | None = None, policy: Policy | None = None):
        super().__init__(settings, group=settings.email_group, offset_reset=settings.offset_reset)
        self.redis = redis or Redis.from_url(settings.redis_url)
        self.deps = handlers.Deps(
            settings=settings, cases=CaseStore(self.redis), policy=policy or load_policy(settings.policy_file),
            publisher=self, relay=Relay(settings.smtp_relay_host, settings.smtp_relay_port), spawn=self._spawn)
        self.smtp_server: asyncio.Server | None = None
        self.imap: ImapPoller | None = None
        self._loops: list[asyncio.Task] = []
        self._background: set[asyncio.Task] = set()

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        await super().start()
        s: EmailSettings = self.settings
        inbox = smtp.SupportInbox(set(s.email_addresses), self.accept)
        self.smtp_server = await smtp.serve(inbox, s.smtp_host, s.smtp_port, s.email_max_bytes, s.email_hostname)
        self._loops = [asyncio.create_task(self._timer_loop(), name="email-timers")]
        if s.imap_host:
            mailbox = ImapMailbox(s.imap_host, s.imap_port, s.imap_user, s.imap_password, s.imap_mailbox)
            self.imap = ImapPoller(mailbox, s.sender, s.email_max_bytes, self.accept, self.reject, s.imap_poll_s)
            self._loops.append(asyncio.create_task(self.imap.run(), name="imap-poller"))
        logger.info("email_gateway_started", smtp_port=self.smtp_port, imap=bool(s.imap_host))

    async def stop(self) -> None:
        # Every step is bounded (cancel_tasks repeats a lost cancel): a gateway that can't stop is worse.
        if self.smtp_server:
            self.smtp_server.close()
        if self._background:  # acks in flight: let them finish, within bounds
            await asyncio.wait(list(self._background), timeout=10)
        await cancel_tasks([*self._loops, *self._background])
        if self.imap:
            await stop_within(self.imap.mailbox.close(), "imap logout", seconds=5)
        await super().stop()
        await stop_within(self.redis.aclose(), "email redis", seconds=5)
        logger.info("email_gateway_stopped")

    @property
    def smtp_port(self) -> int | None:
        return self.smtp_server.sockets[0].getsockname()[1] if self.smtp_server else None

    def ready(self) -> bool:
        return super().ready() and all(not t.done() for t in self._loops)

    # -- entry points --------------------------------------------------------------------
    async def accept(self, inbound: handlers.Inbound) -> intake.Verdict:
        return await intake.accept(inbound, self.deps, self.producer)

    async def reject(self, inbound: handlers.Inbound, reason: str) -> intake.Verdict:
        return await intake.reject(inbound, self.producer, reason)

    async def handle(self, event: Envelope):
        return await handlers.handle(event, self.deps)

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def _timer_loop(self) -> None:
        s: EmailSettings = self.settings
        while True:
            try:
                await handlers.escalate_overdue(self.deps)
                await self._sweep_spool(s)
            except Exception:
                logger.exception("email_timer_error")
            await asyncio.sleep(s.email_timer_interval_ms / 1000)

    async def _sweep_spool(self, s: EmailSettings) -> None:
        retry_ms = int(s.email_spool_retry_s * 1000)
        for spool_id, raw, meta in await self.deps.cases.stale_spool(now_ms() - retry_ms, lease_ms=retry_ms):
            sender = meta.get("sender", "") if meta.get("known_sender") == "1" else None
            inbound = handlers.Inbound(raw=raw, recipient=meta.get("recipient", s.sender),
                                       envelope_sender=sender, source="spool")
            verdict = await intake.accept(inbound, self.deps, self.producer, spool_id=spool_id)
            logger.info("spool_retried", spool_id=spool_id, status=verdict.status)
