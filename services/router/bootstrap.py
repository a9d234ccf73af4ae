"""The one wiring point: builds the router's adapters and background loops."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from redis.asyncio import Redis

from shared import consumer_loop, topics
from shared import logging as log
from shared.cloudevents import Envelope
from shared.kafka import make_consumer, make_producer

from . import handlers
from .adapters.outbox import OutboxRelay
from .adapters.state import RoutingState
from .domain.policy import Policy
from .settings import RouterSettings

logger = log.get("router")


def load_policy(path) -> Policy:
    with open(path) as f:
        return Policy.model_validate(yaml.safe_load(f))


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

    @property
    def deps(self) -> handlers.Deps:
        return handlers.Deps(state=self.state, policy=self.policy)

    async def handle(self, event: Envelope):
        return await handlers.handler_for(event.type)(event, self.deps)

    async def start(self) -> None:
        await self.state.install_policy(self.policy)
        await self.relay.ensure_group()
        await self.producer.start()
        await self.consumer.start()
        self.tasks = [
            asyncio.create_task(consumer_loop.run(self.consumer, self.producer, self.handle, "router"), name="consumer"),
            asyncio.create_task(self._relay_loop(), name="outbox-relay"),
            asyncio.create_task(self._timer_loop(), name="timers"),
        ]

    async def stop(self) -> None:
        for t in self.tasks:
            t.cancel()
        for t in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        await self.consumer.stop()
        await self.producer.stop()
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
        state=RoutingState(redis),
        policy=load_policy(settings.policy_file),
        producer=producer,
        consumer=consumer,
        relay=OutboxRelay(redis, producer, settings.instance),
    )
