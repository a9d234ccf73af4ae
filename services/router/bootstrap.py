"""The one wiring point: builds the router's adapters and background loops."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field

import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from redis.asyncio import Redis

from shared import consumer_loop, topics
from shared import logging as log
from shared.cloudevents import Envelope
from shared.kafka import make_consumer, make_producer
from shared.lifecycle import cancel_tasks, stop_within

from . import handlers
from .adapters.outbox import OutboxRelay
from .adapters.state import RoutingState
from .domain.policy import Policy
from .settings import RouterSettings

logger = log.get("router")


def read_policy_file(path) -> tuple[str, Policy]:
    """The file's content hash (which file version is installed) and its policy."""
    with open(path, "rb") as f:
        raw = f.read()
    return hashlib.sha256(raw).hexdigest(), Policy.model_validate(yaml.safe_load(raw))


@dataclass
class Router:
    settings: RouterSettings
    redis: Redis
    state: RoutingState
    policy: Policy
    producer: AIOKafkaProducer
    consumer: AIOKafkaConsumer
    relay: OutboxRelay
    tasks: list[asyncio.Task] = field(default_factory=list)
    policy_version: int = 0
    _policy_file_hash: str = ""

    @property
    def deps(self) -> handlers.Deps:
        return handlers.Deps(state=self.state, policy=self.policy)

    async def handle(self, event: Envelope):
        return await handlers.handler_for(event.type)(event, self.deps)

    async def start(self) -> None:
        await self.sync_policy()
        await self.relay.ensure_group()
        await self.producer.start()
        await self.consumer.start()
        self.tasks = [
            asyncio.create_task(consumer_loop.run(self.consumer, self.producer, self.handle, "router"), name="consumer"),
            asyncio.create_task(self._relay_loop(), name="outbox-relay"),
            asyncio.create_task(self._timer_loop(), name="timers"),
            asyncio.create_task(self._policy_loop(), name="policy"),
        ]

    async def stop(self) -> None:
        await cancel_tasks(self.tasks)
        await stop_within(self.consumer.stop(), "router consumer")
        await stop_within(self.producer.stop(), "router producer")
        await self.redis.aclose()

    def healthy(self) -> bool:
        return bool(self.tasks) and all(not t.done() for t in self.tasks)

    def assigned(self) -> bool:
        return bool(self.consumer.assignment())

    async def _relay_loop(self) -> None:
        ticks = 0
        while True:
            try:
                if ticks % 20 == 0:
                    await self.relay.claim_abandoned()
                ticks += 1
                await self.relay.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("outbox_relay_error")
                await asyncio.sleep(1)

    async def _timer_loop(self) -> None:
        interval = self.settings.timer_interval_ms / 1000
        while True:
            try:
                now = await self.state.server_time_ms()
                for member in await self.state.due_timers(now):
                    await self.state.fire_timer(member)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("timer_loop_error")
            await asyncio.sleep(interval)

    async def sync_policy(self) -> None:
        """Pick up policy changes without a restart: an edited policy file (installed for
        all replicas when it differs from the file installed last) and a newer version in
        Redis (PUT /v1/policy on any replica)."""
        try:
            digest, from_file = read_policy_file(self.settings.policy_file)
        except (OSError, ValueError, yaml.YAMLError) as exc:  # a bad edit keeps the policy in force
            digest, from_file = "", None
            if self._policy_file_hash != "invalid":
                logger.error("policy_file_invalid", path=str(self.settings.policy_file), error=str(exc))
            self._policy_file_hash = "invalid"
        if from_file is not None and digest != self._policy_file_hash:
            try:
                await handlers.apply_policy(from_file, self.deps, source=digest)
                self._policy_file_hash = digest
            except handlers.PolicyConflict as exc:
                logger.error("policy_file_refused", error=str(exc))
        active = await self.state.active_policy()
        if active and active[0] != self.policy_version:
            self.policy_version, self.policy = active
            logger.info("policy_loaded", version=self.policy_version)

    async def _policy_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.policy_poll_ms / 1000)
            try:
                await self.sync_policy()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("policy_sync_error")


def build(settings: RouterSettings | None = None) -> Router:
    settings = settings or RouterSettings()
    redis = Redis.from_url(settings.redis_url)
    producer = make_producer(settings.kafka_bootstrap)
    consumer = make_consumer(
        settings.kafka_bootstrap, settings.router_group, topics.CONTACTS, auto_offset_reset=settings.offset_reset
    )
    return Router(
        settings=settings,
        redis=redis,
        state=RoutingState(redis, presence_timeout_ms=settings.presence_timeout_ms),
        policy=read_policy_file(settings.policy_file)[1],
        producer=producer,
        consumer=consumer,
        relay=OutboxRelay(redis, producer, settings.instance),
    )
