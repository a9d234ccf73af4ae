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
    # How often each replica's campaign pacer looks for targets to start.
    campaign_tick_ms: int = Field(default=500, gt=0)
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

    # -- CRM (off unless crm_url is set) --
    # GET this for a customer's profile: {customer_id} and {address} are filled in.
    crm_url: str = ""
    crm_timeout_s: float = Field(default=0.5, gt=0)
    # Sent as the `crm_auth_header` header (e.g. "Bearer <token>").
    crm_auth: SecretStr | None = None
    crm_auth_header: str = "Authorization"
    # Where each profile field is in the CRM's JSON answer (dotted paths), JSON.
    crm_mapping: dict[Literal["id", "tier", "name", "language", "vip", "notes"], str] = Field(default_factory=dict)
    # The CRM's tier names as the policy's, JSON: {"Gold": "premium"}.
    crm_tiers: dict[str, str] = Field(default_factory=dict)
    # An answer is used without asking again for crm_cache_s, and kept crm_stale_s to
    # stand in while the CRM is slow or down.
    crm_cache_s: int = Field(default=300, ge=0)
    crm_stale_s: int = Field(default=86_400, gt=0)
    # After this many failures in a row the CRM is not asked for crm_breaker_open_s.
    crm_breaker_failures: int = Field(default=5, ge=1)
    crm_breaker_open_s: float = Field(default=30, gt=0)

    # -- webhooks --
    # How often each replica picks up added and removed webhook subscriptions.
    webhook_sync_ms: int = Field(default=2000, gt=0)
    # A delivery is tried this many times, waiting webhook_backoff_s, doubling up to
    # webhook_backoff_max_s between tries, then given up (dead, in the delivery log).
    webhook_max_attempts: int = Field(default=8, ge=1)
    webhook_backoff_s: float = Field(default=1.0, gt=0)
    webhook_backoff_max_s: float = Field(default=60.0, gt=0)
    webhook_timeout_s: float = Field(default=10.0, gt=0)

    # -- single sign-on: OpenID Connect for people (off unless oidc_issuer is set; the
    # static tokens stay for machines) --
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    # None: a public client (PKCE alone); else sent with HTTP Basic to the token endpoint.
    oidc_client_secret: SecretStr | None = None
    oidc_scopes: str = "openid profile email"
    # This router's /auth/callback as the browser reaches it (registered with the provider);
    # empty: the URL the browser used for /auth/login.
    oidc_redirect_url: str = ""
    # Where a user's roles are (dotted path, e.g. realm_access.roles): a list or a string.
    oidc_roles_claim: str = "roles"
    # The provider's role names as Omniroute's, JSON ({"cc-agents": "agent"}); empty: the
    # same names (agent, supervisor, ops, admin).
    oidc_roles: dict[str, Literal["agent", "supervisor", "ops", "admin"]] = Field(default_factory=dict)
    # The claim holding the agent id (the agent's profile must exist: POST /v1/agents).
    oidc_agent_claim: str = "preferred_username"
    # The claim naming the routing domain; empty: every user is in the default one.
    oidc_domain_claim: str = ""
    # A sign-in lasts this long (a shift), and the provider has this long to answer.
    oidc_session_s: int = Field(default=12 * 3600, gt=0)
    oidc_timeout_s: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _own_secrets_outside_dev(self):
        self.require_secret("admin_token", self.admin_token, DEV_ADMIN_TOKEN)
        self.require_secret("survey_secret", self.survey_secret, DEV_SURVEY_SECRET)
        return self
