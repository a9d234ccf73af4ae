"""Email gateway settings (env prefix OMNIROUTE_)."""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from shared.policy import DEFAULT_POLICY_FILE
from shared.settings import DEV_SURVEY_SECRET, GatewaySettings, secret


class EmailSettings(GatewaySettings):
    # HTTP: /healthz, /readyz, /metrics
    email_http_host: str = "127.0.0.1"
    email_http_port: int = 8082
    # Inbound SMTP
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    # Support addresses we accept mail for, each with the intent it routes as (JSON object).
    email_addresses: dict[str, str] = Field(default_factory=lambda: {"support@omniroute.local": "general"})
    email_max_bytes: int = Field(default=10_000_000, gt=0, description="Larger mail is refused with 552")
    email_hostname: str = "omniroute.local"  # SMTP banner and the domain of our Message-IDs
    # Inbound STARTTLS: offered with this certificate (PEM chain) and key; smtp_require_tls
    # refuses mail sent in clear (530).
    smtp_tls_cert: Path | None = None
    smtp_tls_key: Path | None = None
    smtp_require_tls: bool = False
    # Outbound relay for acknowledgements and agent replies
    smtp_relay_host: str = "127.0.0.1"
    smtp_relay_port: int = 1025  # a local catcher (procfile `mailsink`); your MTA in production
    # auto: STARTTLS when the relay offers it; starttls: required; tls: implicit TLS (465).
    smtp_relay_security: Literal["auto", "starttls", "tls", "none"] = "auto"
    # Sign in to the relay: a password, or XOAUTH2 with the email_oauth_* token.
    smtp_relay_auth: Literal["none", "password", "xoauth2"] = "none"
    smtp_relay_user: str = ""
    smtp_relay_password: SecretStr | None = None
    # Trust these CAs (PEM) for IMAP and the relay instead of the system's.
    email_ca_file: Path | None = None
    # XOAUTH2 (Microsoft 365, Google): an access token as is, or one got from a refresh
    # token at the provider's token endpoint (renewed before it expires).
    email_oauth_token: SecretStr | None = None
    email_oauth_token_url: str = ""
    email_oauth_client_id: str = ""
    email_oauth_client_secret: SecretStr | None = None
    email_oauth_refresh_token: SecretStr | None = None
    email_oauth_scope: str = ""
    # Auto-ack rate limit per sender address
    email_ack_limit: int = Field(default=5, ge=0)
    email_ack_window_s: int = Field(default=3600, gt=0)
    # The acknowledgement waits this long at most for the router's place and estimated wait
    # (contact.queued) and says them when the wait is at least email_wait_notice_s.
    email_estimate_wait_s: float = Field(default=3.0, ge=0)
    email_wait_notice_s: float = Field(default=3600.0, ge=0)
    # IMAP intake: on when imap_host is set
    imap_host: str = ""
    imap_port: int = 993
    imap_security: Literal["tls", "starttls", "none"] = "tls"  # tls: IMAPS (993); starttls: 143
    imap_auth: Literal["password", "xoauth2"] = "password"
    imap_user: str = ""
    imap_password: str = ""
    imap_mailbox: str = "INBOX"
    # IDLE where the server offers it (mail is taken as it arrives); then imap_poll_s is
    # only how often it looks anyway. Without IDLE it polls every imap_poll_s.
    imap_idle: bool = True
    imap_poll_s: float = Field(default=30.0, gt=0)
    # The routing policy the router uses (same file); read for queue SLAs.
    policy_file: Path = DEFAULT_POLICY_FILE
    email_group: str = "omniroute-email-gateway"
    offset_reset: str = "earliest"
    email_timer_interval_ms: int = Field(default=1000, gt=0)
    # Spooled mail older than this is re-processed (a crash between spool and publish).
    email_spool_retry_s: float = Field(default=60.0, gt=0)
    # Post-contact survey mail: links to the router's survey page, signed with the router's
    # secret (shared.survey). An empty base URL sends no survey mail.
    survey_base_url: str = "http://127.0.0.1:8080"
    survey_secret: secret(DEV_SURVEY_SECRET) = DEV_SURVEY_SECRET

    @field_validator("email_addresses")
    @classmethod
    def _lower(cls, v: dict[str, str]) -> dict[str, str]:
        if not v:
            raise ValueError("at least one support address is needed")
        return {k.strip().lower(): intent for k, intent in v.items()}

    @model_validator(mode="after")
    def _tls_and_tokens_complete(self):
        if bool(self.smtp_tls_cert) != bool(self.smtp_tls_key):
            raise ValueError("smtp_tls_cert and smtp_tls_key go together")
        if self.smtp_require_tls and not self.smtp_tls_cert:
            raise ValueError("smtp_require_tls needs smtp_tls_cert and smtp_tls_key")
        oauth = self.email_oauth_token or (self.email_oauth_token_url and self.email_oauth_refresh_token)
        if "xoauth2" in (self.imap_auth, self.smtp_relay_auth) and not oauth:
            raise ValueError("xoauth2 needs email_oauth_token, or email_oauth_token_url and email_oauth_refresh_token")
        return self

    @model_validator(mode="after")
    def _own_secrets_outside_dev(self):
        if self.survey_base_url:  # it signs survey links
            self.require_secret("survey_secret", self.survey_secret, DEV_SURVEY_SECRET)
        return self

    @property
    def sender(self) -> str:
        """Our From address: the first support address."""
        return next(iter(self.email_addresses))
