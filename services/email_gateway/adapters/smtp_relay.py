"""Outbound mail through the configured SMTP relay (aiosmtplib)."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib


class PermanentFailure(Exception):
    """The relay refused the mail for good (5xx): retrying can't help."""


class SmtpRelay:
    def __init__(self, host: str, port: int, timeout: float = 30.0):
        self.host, self.port, self.timeout = host, port, timeout

    async def send(self, msg: EmailMessage, sender: str) -> None:
        """Raises ConnectionError for what may pass (relay down, 4xx), PermanentFailure for 5xx."""
        try:
            await aiosmtplib.send(msg, sender=sender, hostname=self.host, port=self.port,
                                  timeout=self.timeout)
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise PermanentFailure(f"relay refused: {exc.code} {exc.message}") from exc
            raise ConnectionError(f"relay deferred: {exc.code} {exc.message}") from exc
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"relay refused recipients: {exc.recipients}") from exc
        except aiosmtplib.SMTPException as exc:
            raise ConnectionError(f"relay unavailable: {exc}") from exc
