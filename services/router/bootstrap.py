"""The one wiring point: builds the adapters (or takes the ones a test gives), the
message bus over them, and the router's entrances (Kafka consumers and loops). It
composes and nothing else: behaviour lives in handlers, translation in entrypoints."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from aiokafka import AIOKafkaProducer

from shared import topics
from shared.events import DEFAULT_DOMAIN
from shared.kafka import make_consumer, make_producer
from shared.lifecycle import stop_within
from shared.loops import Consumer, Loop, dead
from shared.policy import Policy, policy_files, read_policy_file
from shared.redis_client import connect
from shared.settings import reveal
from shared.sockets import SocketHub

from .adapters.crm import Breaker, CustomerDirectory, HttpCrm
from .adapters.oidc import OidcProvider
from .adapters.webhooks import WebhookSender, WebhookStore
from .adapters.outbox import OutboxRelay
from .adapters.publisher import KafkaPublisher
from .adapters.stats_board import StatsBoard
from .adapters.stats_store import StatsStore
from .adapters.store import RoutingStore
from .domain.commands import SyncPolicy
from .entrypoints import consumers
from .entrypoints.policy_watch import policy_watch
from .entrypoints.relay import outbox_relay
from .entrypoints.stats_report import report_loop
from .entrypoints.campaign_pacer import campaign_pacer
from .entrypoints.timers import timer_loop
from .entrypoints.webhooks import WebhookDispatcher
from .handlers import HANDLERS
from .handlers.deps import PolicyState, RouterDeps
from .messagebus import MessageBus
from .settings import RouterSettings


@dataclass
class RoutingService:
    """The router process: the bus and everything that feeds it."""

    settings: RouterSettings
    bus: MessageBus
    producer: AIOKafkaProducer | None = None
    consumers: dict[str, Consumer] = field(default_factory=dict)
    loops: list[Loop] = field(default_factory=list)
    crm: HttpCrm | None = None
    webhook_client: httpx.AsyncClient | None = None
    webhooks: WebhookDispatcher | None = None

    @property
    def deps(self) -> RouterDeps:
        return self.bus.deps

    async def start(self) -> None:
        for domain, deps in self.bus.domains.items():
            await self.bus.within(domain).handle(SyncPolicy())
            if deps.outbox is not None:
                await deps.outbox.ensure_group()
        if self.producer is not None:
            await self.producer.start()
        for entrance in [*self.consumers.values(), *self.loops]:
            await entrance.start()

    async def stop(self) -> None:
        for entrance in reversed([*self.consumers.values(), *self.loops]):
            await entrance.stop()
        if self.producer is not None:
            await stop_within(self.producer.stop(), "router producer")
        if self.crm is not None:
            await self.crm.client.aclose()
        if self.webhook_client is not None:
            await self.webhook_client.aclose()
        await self.deps.store.close()

    def healthy(self) -> bool:
        return not self.dead_loops()

    def dead_loops(self) -> list[str]:
        return dead([*self.consumers.values(), *self.loops])

    async def readiness(self) -> dict:
        """Ready: Redis answers, every entrance runs, and the routing consumer has joined its group."""
        await self.deps.store.ping()
        routing = self.consumers.get("router")
        return {"ready": self.healthy() and (routing is None or routing.joined())}


def read_policies(path: Path) -> dict[str, tuple[Path, Policy]]:
    """The routing domains and their policies: one file, or a directory of them."""
    found: dict[str, tuple[Path, Policy]] = {}
    for file in policy_files(path):
        policy = read_policy_file(file)[1]
        if policy.domain in found:
            raise ValueError(f"{file} and {found[policy.domain][0]} both govern routing domain {policy.domain!r}")
        found[policy.domain] = (file, policy)
    if not found:
        raise ValueError(f"no policy (*.yaml) in {path}")
    return found


def bootstrap(settings: RouterSettings | None = None, *, store=None, publisher=None,
              kafka: bool = True) -> RoutingService:
    """Real adapters unless given. `kafka=False` builds the bus alone (no consumers,
    producer or loops): what handler and route tests with a fake store run. Each routing
    domain (a policy) gets its own dependencies over the shared connections."""
    settings = settings or RouterSettings()
    if store is None:
        store = RoutingStore(connect(settings), presence_timeout_ms=settings.presence_timeout_ms,
                             dedupe_ttl_s=settings.dedupe_ttl_s, retention_s=settings.retention_s)
    redis = getattr(store, "redis", None)  # a fake store has none: no outbox, no stats
    producer = make_producer(settings.kafka_bootstrap, request_timeout_ms=settings.kafka_request_timeout_ms) \
        if kafka else None
    publisher = publisher if publisher is not None else KafkaPublisher(producer)
    crm = build_crm(settings)
    directory = CustomerDirectory(store, crm, Breaker(settings.crm_breaker_failures, settings.crm_breaker_open_s),
                                  settings.crm_cache_s, settings.crm_stale_s)
    webhook_client = httpx.AsyncClient(trust_env=False) if redis is not None else None
    sender = WebhookSender(webhook_client, settings.webhook_timeout_s) if webhook_client else None
    sso = build_sso(settings)
    domains = {}
    for domain, (file, policy) in read_policies(settings.policy_file).items():
        domain_store = store if getattr(store, "domain", DEFAULT_DOMAIN) == domain else store.for_domain(domain)
        domains[domain] = RouterDeps(
            settings=settings, store=domain_store, policy=PolicyState(policy=policy, file=file),
            publisher=publisher, desks=SocketHub(), board=StatsBoard(),
            outbox=OutboxRelay(redis, producer, settings.instance, domain) if kafka and redis is not None else None,
            stats=StatsStore(redis, domain) if redis is not None else None, tz=ZoneInfo(settings.stats_timezone),
            customers=directory.for_store(domain_store), domain=domain,
            webhooks=WebhookStore(redis, domain) if redis is not None else None, webhook_sender=sender,
            sso=sso,
        )
    first = domains.get(DEFAULT_DOMAIN) or next(iter(domains.values()))
    bus = MessageBus(first, HANDLERS, domains)
    service = RoutingService(settings=settings, bus=bus, producer=producer, crm=crm, webhook_client=webhook_client)
    if kafka:
        _add_entrances(service, settings, producer)
    return service


def build_crm(s: RouterSettings) -> HttpCrm | None:
    if not s.crm_url:
        return None
    headers = {s.crm_auth_header: s.crm_auth.get_secret_value()} if s.crm_auth else {}
    return HttpCrm(httpx.AsyncClient(trust_env=False), s.crm_url, s.crm_timeout_s, s.crm_mapping, s.crm_tiers, headers)


def build_sso(s: RouterSettings) -> OidcProvider | None:
    if not s.oidc_issuer:
        return None
    return OidcProvider(s.oidc_issuer, s.oidc_client_id, reveal(s.oidc_client_secret) or None, s.oidc_scopes,
                        s.oidc_timeout_s)


def _add_entrances(service: RoutingService, s: RouterSettings, producer: AIOKafkaProducer) -> None:
    bus = service.bus
    routing = make_consumer(s.kafka_bootstrap, s.router_group, topics.CONTACTS, auto_offset_reset=s.offset_reset)
    # The desktop feed: every replica reads every event, in a group of its own named after
    # the replica, so a restart resumes where it stopped (transcripts miss nothing).
    desktop = make_consumer(s.kafka_bootstrap, f"{s.router_group}-desktop-{s.replica}", topics.ROUTING,
                            topics.AGENTS, topics.MESSAGES, auto_offset_reset="latest")
    stats_group = f"{s.router_group}-stats"
    stats = make_consumer(s.kafka_bootstrap, stats_group, topics.ROUTING, topics.AGENTS, topics.CONTACTS,
                          auto_offset_reset=s.offset_reset)
    service.consumers = {
        "router": consumers.routing(bus, routing, producer),
        "desktop": consumers.desktop_feed(bus, desktop),
        "stats": consumers.stats_projector(bus, stats, s.stats_batch_ms / 1000),
    }
    lagging = {"router": (service.consumers["router"], s.router_group),
               "router-stats": (service.consumers["stats"], stats_group)}
    # Each domain's own loops (its outbox, timers, policy and report); the consumers'
    # lag is recorded once, beside the first domain's report.
    service.webhooks = WebhookDispatcher(bus, s.kafka_bootstrap, s.router_group, s.webhook_sync_ms / 1000)
    service.loops.append(service.webhooks)
    for domain in bus.domains:
        own = bus.within(domain)
        service.loops += [
            outbox_relay(own), timer_loop(own, s.timer_interval_ms), policy_watch(own, s.policy_poll_ms),
            campaign_pacer(own, s.campaign_tick_ms),
            report_loop(own, s.stats_interval_ms, lagging if own is bus else {}),
        ]
