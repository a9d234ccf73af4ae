"""Email test helpers: the outbound SMTP sink, gateway settings and start-up, swaks."""

from __future__ import annotations

import asyncio
import email
import uuid
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path

import httpx

from services.email_gateway.app import create_app
from services.email_gateway.settings import EmailSettings
from tests.support.kafka_watch import Watch
from tests.support.poll import until
from tests.support.router_harness import infra_address as addr
from tests.support.router_harness import positioned
from tests.support.tools import require

POLICY = Path(__file__).with_name("policy.yaml")
SUPPORT, URGENT = "support@acme.test", "urgent@acme.test"


PACKAGES = {"swaks": "swaks", "dovecot": "dovecot-imapd"}


def require_tool(name: str) -> str:
    return require(name, PACKAGES[name])


@dataclass
class Sink:
    """The outbound relay: every mail the gateway sends lands here, parsed."""

    port: int = 0
    mails: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        self.mails.append(email.message_from_bytes(envelope.original_content, policy=policy.default))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 2.0.0 Ok: queued"

    def to(self, address: str, subject_contains: str = "") -> list[EmailMessage]:
        return [m for m in self.mails
                if address.lower() in str(m["To"] or "").lower() and subject_contains in str(m["Subject"])]

    async def wait(self, address: str, subject_contains: str = "", count: int = 1, timeout: float = 20):
        found = await until(lambda: len(self.to(address, subject_contains)) >= count and self.to(address, subject_contains),
                            timeout, what=f"{count} mail(s) to {address} {subject_contains!r}")
        return found[count - 1]


def gateway_settings(infra, sink: Sink, **overrides) -> EmailSettings:
    values = dict(
        kafka_bootstrap=addr(infra, "kafka_bootstrap"), redis_url=addr(infra, "redis_url"),
        smtp_port=0, email_addresses={SUPPORT: "general", URGENT: "urgent"}, email_hostname="acme.test",
        email_max_bytes=200_000, smtp_relay_host="127.0.0.1", smtp_relay_port=sink.port,
        policy_file=POLICY, email_group=f"test-email-{uuid.uuid4().hex[:8]}", offset_reset="latest",
        email_timer_interval_ms=100, email_ack_limit=3,
        survey_base_url="http://router",  # the harness's in-process router app
    )
    return EmailSettings(**{**values, **overrides})


@dataclass
class Gateway:
    app: object
    http: httpx.AsyncClient
    contacts: Watch  # omniroute.contacts: what the gateway published
    messages: Watch  # omniroute.messages

    @property
    def smtp_port(self) -> int:
        return self.app.state.service.smtp_port

    def created(self, **meta) -> list:
        return [e.data for e in self.contacts.of("contact.created")
                if all(e.data.metadata.get(k) == v for k, v in meta.items())]

    async def wait_created(self, timeout: float = 20, **meta):
        found = await until(lambda: self.created(**meta), timeout, what=f"contact.created {meta}")
        return found[0]


async def start_gateway(settings: EmailSettings):
    """The gateway's app with its lifespan entered; returns (app, lifespan context)."""
    app = create_app(settings)
    ctx = app.router.lifespan_context(app)
    await ctx.__aenter__()
    await positioned(app.state.service.gateway.consumer, "email gateway assignment")
    return app, ctx


@dataclass
class SwaksResult:
    code: int
    transcript: str


async def swaks(port: int, *args: str, to: str = SUPPORT, sender: str = "ann@example.com") -> SwaksResult:
    """Send with the real swaks client (async: the gateway shares this event loop)."""
    exe = require_tool("swaks")
    proc = await asyncio.create_subprocess_exec(
        exe, "--server", "127.0.0.1", "--port", str(port), "--to", to, "--from", sender,
        "--helo", "client.example.com", "--timeout", "60", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 90)
    return SwaksResult(proc.returncode, out.decode(errors="replace"))
