"""A support mailbox read over IMAP (aioimaplib): over TLS (IMAPS, or STARTTLS), signed
in with a password or XOAUTH2; unseen messages by UID, fetched without marking them,
flagged \\Seen only once their contact event is on Kafka; IDLE waits for new mail where
the server offers it."""

from __future__ import annotations

import asyncio
import re
import ssl
from typing import Literal

import aioimaplib
from aioimaplib.aioimaplib import STOP_WAIT_SERVER_PUSH, Command

from .oauth import AccessTokens

FETCH_LITERAL = re.compile(rb"\{(\d+)\}$")
NEWS = re.compile(rb"^\d+ (EXISTS|RECENT)$")  # untagged answers that mean mail arrived
Security = Literal["tls", "starttls", "none"]


class ImapError(ConnectionError):
    """The server said NO/BAD or went away: the poller reconnects later."""


def _ok(response, what: str):
    if response.result != "OK":
        raise ImapError(f"IMAP {what} failed: {response.result} {response.lines[-1:]!r}")
    return response


class ImapMailbox:
    def __init__(self, host: str, port: int, user: str, password: str, mailbox: str, timeout: float = 30, *,
                 security: Security = "none", tls: ssl.SSLContext | None = None, tokens: AccessTokens | None = None):
        self.host, self.port, self.user, self.password, self.mailbox = host, port, user, password, mailbox
        self.timeout, self.security, self.tls, self.tokens = timeout, security, tls, tokens
        self.client: aioimaplib.IMAP4 | None = None

    async def connect(self) -> None:
        if self.security == "tls":
            client = aioimaplib.IMAP4_SSL(host=self.host, port=self.port, timeout=self.timeout, ssl_context=self.tls)
        else:
            client = aioimaplib.IMAP4(host=self.host, port=self.port, timeout=self.timeout)
        try:
            await client.wait_hello_from_server()
            if self.security == "starttls":
                await self._starttls(client)
            if self.tokens is not None:
                _ok(await client.xoauth2(self.user, await self.tokens.get()), "XOAUTH2 authentication")
            else:
                _ok(await client.login(self.user, self.password), "login")
            await asyncio.wait_for(client.protocol.capability(), self.timeout)  # what it offers signed in (IDLE)
            _ok(await client.select(self.mailbox), f"select {self.mailbox}")
        except BaseException:
            await _drop(client)
            raise
        self.client = client

    async def _starttls(self, client: aioimaplib.IMAP4) -> None:
        """RFC 3501 6.2.1: STARTTLS, the handshake on the same connection, then the
        capabilities again (those said in clear are not to be trusted)."""
        protocol = client.protocol
        if "STARTTLS" not in protocol.capabilities:
            raise ImapError("the server offers no STARTTLS")
        _ok(await asyncio.wait_for(protocol.execute(Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)),
                                   self.timeout), "STARTTLS")
        protocol.transport = await asyncio.wait_for(protocol.loop.start_tls(
            protocol.transport, protocol, self.tls or ssl.create_default_context(), server_hostname=self.host),
            self.timeout)
        await asyncio.wait_for(protocol.capability(), self.timeout)

    async def close(self) -> None:
        if self.client:
            client, self.client = self.client, None
            await _drop(client)

    def can_idle(self) -> bool:
        return self.client is not None and self.client.has_capability("IDLE")

    async def wait_for_mail(self, at_most_s: float) -> bool:
        """IDLE (RFC 2177) until the server says mail arrived, or `at_most_s` passed
        (then the caller polls anyway: a lost push is found then). True: mail arrived."""
        idle = await self.client.idle_start(timeout=at_most_s)
        arrived = False
        try:
            while not arrived:
                pushed = await self.client.wait_server_push(at_most_s + self.timeout)
                if pushed == STOP_WAIT_SERVER_PUSH:
                    break
                arrived = any(NEWS.match(bytes(line).strip()) for line in pushed if isinstance(line, (bytes, bytearray)))
        finally:
            self.client.idle_done()
            await asyncio.wait_for(idle, self.timeout)
        return arrived

    async def unseen(self) -> list[str]:
        resp = _ok(await self.client.uid_search("UNSEEN", charset=None), "search")
        uids = []
        for line in resp.lines[:-1]:
            uids += [u for u in line.decode().split() if u.isdigit()]
        return uids

    async def fetch(self, uid: str) -> bytes | None:
        """The raw message, or None when it vanished meanwhile."""
        resp = _ok(await self.client.uid("fetch", uid, "(BODY.PEEK[])"), "fetch")
        lines = resp.lines
        for i, line in enumerate(lines[:-1]):
            if isinstance(line, (bytes, bytearray)) and FETCH_LITERAL.search(bytes(line)) and i + 1 < len(lines):
                return bytes(lines[i + 1])
        return None

    async def mark_seen(self, uid: str) -> None:
        _ok(await self.client.uid("store", uid, "+FLAGS", "(\\Seen)"), "store")


async def _drop(client: aioimaplib.IMAP4) -> None:
    """Log out if the server still listens; a connection already gone has nothing to release."""
    try:
        await asyncio.wait_for(client.logout(), 5)
    except Exception:  # noqa: BLE001 -- already gone, half open, never signed in: nothing to release
        pass
