"""Router settings (env prefix OMNIROUTE_)."""

import os
import socket
from pathlib import Path

from pydantic import Field, model_validator

from shared.settings import CommonSettings

DEFAULT_POLICY = Path(__file__).with_name("policy.yaml")
DEV_ADMIN_TOKEN = "dev-admin-token"


class RouterSettings(CommonSettings):
    router_host: str = "127.0.0.1"
    router_port: int = 8080
    admin_token: str = DEV_ADMIN_TOKEN
    env: str = "dev"
    policy_file: Path = DEFAULT_POLICY
    router_group: str = "omniroute-router"
    # Where a new consumer group starts: earliest so no contact is skipped on first start.
    offset_reset: str = "earliest"
    # Distinct per replica: names this replica in the outbox relay consumer group.
    instance: str = Field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    timer_interval_ms: int = 200
    # An agent silent for this long goes offline and their pending offers are re-queued.
    presence_timeout_ms: int = 30_000
    # How often each replica checks for a new routing policy (Redis version, policy file).
    policy_poll_ms: int = 1_000

    @model_validator(mode="after")
    def _no_default_secret_in_production(self):
        if self.env == "production" and self.admin_token == DEV_ADMIN_TOKEN:
            raise ValueError("OMNIROUTE_ADMIN_TOKEN must be set in production")
        return self
