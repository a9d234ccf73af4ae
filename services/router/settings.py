"""Router settings (env prefix OMNIROUTE_): routing, ops and the survey page."""

import os
import socket
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from shared.events import DomainName
from shared.policy import DEFAULT_POLICY_FILE
from shared.settings import DEV_ADMIN_TOKEN, DEV_SURVEY_SECRET, CommonSettings, secret


class RouterSettings(CommonSettings):
    router_host: str = "127.0.0.1"
    router_port: int = 8080
    admin_token: secret(DEV_ADMIN_TOKEN) = DEV_ADMIN_TOKEN
    # A policy file, or a directory of them (`*.yaml`): each governs the routing domain it names.
    policy_file: Path = DEFAULT_POLICY_FILE
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
    # How long an event id is remembered to drop a redelivery (Kafka's retention or more).
    dedupe_ttl_s: int = Field(default=7 * 86_400, gt=0)
    # How long a finished contact (and its offers) stays readable before it expires.
    retention_s: int = Field(default=3 * 86_400, gt=0)

    # -- ops --
    # Abandons quicker than this are excluded from service level and abandon rate.
    short_abandon_s: float = 5.0
    # "Today" starts at local midnight in this IANA zone.
    stats_timezone: str = "UTC"
    # How often stats are recomputed, exported and pushed to WebSocket subscribers.
    stats_interval_ms: int = 1000
    # The stats projector takes events in batches this far apart: fewer, larger writes.
    stats_batch_ms: int = Field(default=250, ge=0)
    # Read-only token for supervisors (stats, staffing, ops page); the admin token works too.
    ops_token: SecretStr | None = None
    # Per routing domain, JSON: {"acme": {"admin": "...", "ops": "..."}}; each acts on that
    # domain only (the tokens above act on every domain, named by the Omniroute-Domain header).
    domain_tokens: dict[DomainName, dict[Literal["admin", "ops"], SecretStr]] = Field(default_factory=dict)
    # Signs survey links; gateways minting links (shared.survey) need the same secret.
    survey_secret: secret(DEV_SURVEY_SECRET) = DEV_SURVEY_SECRET
    survey_max_age_s: int = 30 * 86400

    @model_validator(mode="after")
    def _own_secrets_outside_dev(self):
        self.require_secret("admin_token", self.admin_token, DEV_ADMIN_TOKEN)
        self.require_secret("survey_secret", self.survey_secret, DEV_SURVEY_SECRET)
        return self
