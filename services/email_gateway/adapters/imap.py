"""A support mailbox read over IMAP (aioimaplib): unseen messages by UID, fetched without
marking them, flagged \\Seen only once their contact event is on Kafka."""

from __future__ import annotations

import re

import aioimaplib

FETCH_LITERAL = re.compile(rb"\{(\d+)\}$")


class ImapError(ConnectionError):
    """The server said NO/BAD or went away: the poller reconnects later."""


def _ok(response, what: str):
    if response.result != "OK":
        raise ImapError(f"IMAP {what} failed: {response.result} {response.lines[-1:]!r}")
    return response


class ImapMailbox:
    def __init__(self, host: str, port: int, user: str, password: str, mailbox: str, timeout: float = 30):
        self.host, self.port, self.user, self.password, self.mailbox = host, port, user, password, mailbox
        self.timeout = timeout
        self.client: aioimaplib.IMAP4 | None = None

    async def connect(self) -> None:
        client = aioimaplib.IMAP4(host=self.host, port=self.port, timeout=self.timeout)
        await client.wait_hello_from_server()
        _ok(await client.login(self.user, self.password), "login")
        _ok(await client.select(self.mailbox), f"select {self.mailbox}")
        self.client = client

    async def close(self) -> None:
        if self.client:
            try:
                await self.client.logout()
            except Exception:  # already gone: nothing to release
                pass
            self.client = None

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
