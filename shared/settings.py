"""12-factor settings shared by every service (prefix OMNIROUTE_)."""

import socket
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.events import DEFAULT_DOMAIN, DomainName


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OMNIROUTE_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Connections per service process; a request finding all busy waits this long for one.
    redis_max_connections: int = Field(default=64, ge=1)
    redis_pool_timeout_s: float = Field(default=5.0, gt=0)
    # A Redis reply (or connect) slower than this fails instead of hanging on a dead link;
    # keep it above the longest blocking read (the outbox relay blocks 0.5 s).
    redis_socket_timeout_s: float = Field(default=5.0, gt=0)
    # How long a publish may wait for Kafka before it fails (then retried, or answered in
    # the protocol's temporary-failure terms: SMTP 451, SIP 503).
    kafka_request_timeout_ms: int = Field(default=30_000, gt=0)
    topic_partitions: int = 3
    topic_replication: int = 1
    log_level: str = "INFO"
    # Only `dev` accepts the development secrets, and only when set explicitly: unset means
    # production. Anything but these two is an error (a typo such as `prod` must not
    # quietly mean either).
    env: Literal["dev", "production"] = "production"
    # This process's stable name among its service's replicas (default: the host name, which
    # a container keeps across restarts). It names the consumer groups a replica reads alone
    # (desktop feed, chat and voice gateways), so a restart resumes from the committed
    # offset instead of missing what was published meanwhile. Distinct per replica.
    replica: str = Field(default_factory=socket.gethostname, pattern=r"^[A-Za-z0-9._-]{1,100}$")

    def require_secret(self, name: str, value: SecretStr | None, dev_default: str) -> None:
        """Outside dev a secret must be set, and not to its development value or the
        placeholder of .env.example."""
        text = reveal(value)
        if self.env != "dev" and (not text or text == dev_default or text.startswith("change-me")):
            raise ValueError(f"OMNIROUTE_{name.upper()} must be set to a secret of your own "
                             "(or OMNIROUTE_ENV=dev for the development default)")


class GatewaySettings(CommonSettings):
    # The routing domain (center, site, tenant) this gateway's contacts belong to: stamped
    # on every event it publishes; routing events of other domains are not its business.
    domain: DomainName = DEFAULT_DOMAIN


def reveal(value: SecretStr | None) -> str:
    """A secret setting's text, or "" when unset."""
    return value.get_secret_value() if value is not None else ""


def secret(dev_default: str):
    """A secret setting: blank (what Compose passes for `${X:-}` when .env lacks X) means
    its development default, which only OMNIROUTE_ENV=dev accepts (`require_secret`)."""
    return Annotated[SecretStr, BeforeValidator(lambda v: v or dev_default)]


# Development defaults for secrets. Every service refuses them with OMNIROUTE_ENV=production;
# the survey secret is shared: the email gateway signs the links the router's page opens.
DEV_ADMIN_TOKEN = "dev-admin-token"
DEV_SURVEY_SECRET = "dev-survey-secret"
DEV_CHAT_SECRET = "dev-chat-secret"
