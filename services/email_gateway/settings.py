"""Email gateway settings (env prefix OMNIROUTE_)."""

from pathlib import Path

from pydantic import Field, field_validator, model_validator

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
    # Outbound relay for acknowledgements and agent replies
    smtp_relay_host: str = "127.0.0.1"
    smtp_relay_port: int = 1025  # a local catcher (procfile `mailsink`); your MTA in production
    # Auto-ack rate limit per sender address
    email_ack_limit: int = Field(default=5, ge=0)
    email_ack_window_s: int = Field(default=3600, gt=0)
    # IMAP polling mode: on when imap_host is set
    imap_host: str = ""
    imap_port: int = 143
    imap_user: str = ""
    imap_password: str = ""
    imap_mailbox: str = "INBOX"
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
    def _own_secrets_outside_dev(self):
        if self.survey_base_url:  # it signs survey links
            self.require_secret("survey_secret", self.survey_secret, DEV_SURVEY_SECRET)
        return self

    @property
    def sender(self) -> str:
        """Our From address: the first support address."""
        return next(iter(self.email_addresses))
