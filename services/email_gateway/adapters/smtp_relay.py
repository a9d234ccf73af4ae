"""Outbound mail through the configured SMTP relay (aiosmtplib)."""

from __future__ import annotations

import ssl
from email.message import EmailMessage

import aiosmtplib

from .oauth import AccessTokens


class PermanentFailure(Exception):
    """The relay refused the mail for good (5xx): retrying can't help."""


START_TLS = {"auto": None, "starttls": True, "tls": False, "none": False}  # aiosmtplib's start_tls


class SmtpRelay:
    def __init__(self, host: str, port: int, timeout: float = 30.0, *, security: str = "auto",
                 tls: ssl.SSLContext | None = None, user: str = "", password: str | None = None,
                 tokens: AccessTokens | None = None):
        self.host, self.port, self.timeout = host, port, timeout
        self.login = {"username": user, "password": password} if password else {}
        if tokens is not None:
            self.login = {"username": user, "oauth_token_generator": tokens.get}
        self.tls = {"use_tls": security == "tls", "start_tls": START_TLS[security], "tls_context": tls}

    async def send(self, msg: EmailMessage, sender: str) -> None:
        """Raises ConnectionError for what may pass (relay down, 4xx), PermanentFailure for 5xx."""
        try:
            await aiosmtplib.send(msg, sender=sender, hostname=self.host, port=self.port,
                                  timeout=self.timeout, **self.tls, **self.login)
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise PermanentFailure(f"relay refused: {exc.code} {exc.message}") from exc
            raise ConnectionError(f"relay deferred: {exc.code} {exc.message}") from exc
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"relay refused recipients: {exc.recipients}") from exc
        except aiosmtplib.SMTPException as exc:
            raise ConnectionError(f"relay unavailable: {exc}") from exc
