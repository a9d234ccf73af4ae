"""The one wiring point of the email gateway: the Kafka side (a ChannelGateway), the
SMTP server, the IMAP poller, the case store, the outbound SMTP relay, and the loop
that escalates overdue first responses and retries spooled mail."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from shared import logging as log
from shared.cloudevents import Envelope
from shared.events import EMAIL
from shared.gateway import ChannelGateway
from shared.lifecycle import cancel_tasks, stop_within
from shared.loops import Loop, dead
from shared.policy import Policy, domain_policy
from shared.redis_client import connect
from shared.settings import reveal
from shared.tls import client_context, server_context

from .adapters.cases import CaseStore
from .adapters.imap import ImapMailbox
from .adapters.oauth import AccessTokens
from .adapters.smtp_relay import SmtpRelay
from .domain.inbound import Inbound, Verdict
from .entrypoints import smtp
from .entrypoints.imap import ImapPoller
from .handlers import intake, mail
from .handlers.deps import EmailDeps
from .settings import EmailSettings

logger = log.get("email-gateway")


def load_policy(settings: EmailSettings) -> Policy:
    """The routing policy of the gateway's domain, read-only: queue SLAs set the response
    times, hours of operation when they start."""
    return domain_policy(settings.policy_file, settings.domain)


class EmailGateway(ChannelGateway):
    channel = EMAIL

    def __init__(self, settings: EmailSettings):
        super().__init__(settings, group=settings.email_group, offset_reset=settings.offset_reset)
        self.deps: EmailDeps | None = None  # set by build

    async def handle(self, event: Envelope):
        return await mail.handle(event, self.deps)


def build_tokens(s: EmailSettings) -> AccessTokens | None:
    tokens = AccessTokens(reveal(s.email_oauth_token), s.email_oauth_token_url, s.email_oauth_client_id,
                          reveal(s.email_oauth_client_secret) or None, reveal(s.email_oauth_refresh_token),
                          s.email_oauth_scope)
    return tokens if tokens.configured else None


def build_relay(s: EmailSettings, tokens: AccessTokens | None) -> SmtpRelay:
    password = reveal(s.smtp_relay_password) if s.smtp_relay_auth == "password" else None
    return SmtpRelay(s.smtp_relay_host, s.smtp_relay_port, security=s.smtp_relay_security,
                     tls=client_context(s.email_ca_file), user=s.smtp_relay_user, password=password,
                     tokens=tokens if s.smtp_relay_auth == "xoauth2" else None)


class EmailService:
    def __init__(self, settings: EmailSettings, redis: Redis | None = None, policy: Policy | None = None):
        self.settings = settings
        self.redis = redis or connect(settings)
        self.gateway = EmailGateway(settings)
        self.tokens = build_tokens(settings)  # XOAUTH2, shared by IMAP and the relay
        self.deps = EmailDeps(
            settings=settings, cases=CaseStore(self.redis), policy=policy or load_policy(settings),
            publisher=self.gateway, smtp_relay=build_relay(settings, self.tokens), spawn=self._spawn)
        self.gateway.deps = self.deps
        self.timers = Loop("email-timers", self._timers_once, settings.email_timer_interval_ms / 1000)
        self.smtp_server: asyncio.Server | None = None
        self.imap: ImapPoller | None = None
        self._imap_task: asyncio.Task | None = None
        self._background: set[asyncio.Task] = set()

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        await self.gateway.start()
        s = self.settings
        inbox = smtp.SupportInbox(set(s.email_addresses), self.accept)
        inbound_tls = server_context(s.smtp_tls_cert, s.smtp_tls_key) if s.smtp_tls_cert else None
        self.smtp_server = await smtp.serve(inbox, s.smtp_host, s.smtp_port, s.email_max_bytes, s.email_hostname,
                                            inbound_tls, s.smtp_require_tls)
        await self.timers.start()
        if s.imap_host:
            mailbox = ImapMailbox(s.imap_host, s.imap_port, s.imap_user, s.imap_password, s.imap_mailbox,
                                  security=s.imap_security, tls=client_context(s.email_ca_file),
                                  tokens=self.tokens if s.imap_auth == "xoauth2" else None)
            self.imap = ImapPoller(mailbox, s.sender, s.email_max_bytes, self.accept, self.reject, s.imap_poll_s,
                                   idle=s.imap_idle)
            self._imap_task = asyncio.create_task(self.imap.run(), name="imap-poller")
        logger.info("email_gateway_started", smtp_port=self.smtp_port, imap=bool(s.imap_host))

    async def stop(self) -> None:
        # Every step is bounded (cancel_tasks repeats a lost cancel): a gateway that can't stop is worse.
        if self.smtp_server:
            self.smtp_server.close()
        if self._background:  # acks in flight: let them finish, within bounds
            await asyncio.wait(list(self._background), timeout=10)
        await self.timers.stop()
        await cancel_tasks([self._imap_task, *self._background])
        if self.imap:
            await stop_within(self.imap.mailbox.close(), "imap logout", seconds=5)
        await self.gateway.stop()
        await stop_within(self.redis.aclose(), "email redis", seconds=5)
        logger.info("email_gateway_stopped")

    @property
    def smtp_port(self) -> int | None:
        return self.smtp_server.sockets[0].getsockname()[1] if self.smtp_server else None

    def dead_loops(self) -> list[str]:
        imap = ["imap-poller"] if self._imap_task is not None and self._imap_task.done() else []
        return self.gateway.dead_loops() + dead([self.timers]) + imap

    async def readiness(self) -> dict:
        await self.redis.ping()
        imap_alive = self._imap_task is None or not self._imap_task.done()
        return {"ready": self.gateway.ready() and self.timers.alive() and imap_alive, "smtp_port": self.smtp_port}

    # -- what the SMTP server and the IMAP poller call -----------------------------------
    async def accept(self, inbound: Inbound) -> Verdict:
        return await intake.accept(inbound, self.deps)

    async def reject(self, inbound: Inbound, reason: str) -> Verdict:
        return await intake.reject(inbound, self.deps, reason)

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def _timers_once(self) -> None:
        await mail.escalate_overdue(self.deps)
        await intake.retry_spooled(self.deps)


def build(settings: EmailSettings, redis: Redis | None = None, policy: Policy | None = None) -> EmailService:
    return EmailService(settings, redis, policy)
