"""Webhook deliveries from Kafka. Every subscription has a consumer group of its own on
omniroute.routing (each replica one member), started at the subscription's creation
time: a slow or dead subscriber holds back only its own group (Kafka keeps the backlog),
never routing nor another subscriber, and partitions keep each contact's events in order."""

from __future__ import annotations

from shared import topics
from shared.cloudevents import Envelope
from shared.kafka import make_consumer
from shared.loops import Consumer, Loop

from ..domain.commands import DeliverWebhook, ListWebhooks
from ..domain.webhooks import Subscription
from ..messagebus import MessageBus


START_EARLY_MS = 60_000


class WebhookDispatcher:
    """Keeps one consumer per subscription of every domain running, as subscriptions
    come and go (checked every `sync_s`)."""

    name = "webhooks"

    def __init__(self, bus: MessageBus, bootstrap: str, group_prefix: str, sync_s: float):
        self.bus, self.bootstrap, self.group_prefix = bus, bootstrap, group_prefix
        self.running: dict[tuple[str, str], Consumer] = {}
        self.loop = Loop("webhooks", self.sync, sync_s)

    async def start(self) -> None:
        await self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()
        for consumer in self.running.values():
            await consumer.stop()
        self.running.clear()

    def alive(self) -> bool:
        return self.loop.alive()

    def joined(self, webhook_id: str) -> bool:
        return any(key[1] == webhook_id and c.joined() for key, c in self.running.items())

    async def sync(self) -> None:
        wanted = {}
        for domain in self.bus.domains:
            for sub in await self.bus.within(domain).handle(ListWebhooks()):
                wanted[(domain, sub.id)] = sub
        for key in set(self.running) - set(wanted):  # removed
            await self.running.pop(key).stop()
        for key, sub in wanted.items():
            if key not in self.running:
                consumer = self._consumer(key[0], sub)
                await consumer.start()
                self.running[key] = consumer

    def _consumer(self, domain: str, sub: Subscription) -> Consumer:
        # Kafka's record times are only near the transitions' (the relay publishes a little
        # later; a cluster may stamp them otherwise): start a minute early, `covers` decides.
        kafka = make_consumer(self.bootstrap, f"{self.group_prefix}-webhook-{sub.id}", topics.ROUTING,
                              start_at_ms=sub.created_ms - START_EARLY_MS)
        bus = self.bus.within(domain)

        async def deliver(event: Envelope) -> None:
            # What happened from the subscription on: the group starts near its creation
            # time (start_at_ms); the transition's own time decides.
            if event.routing_domain == domain and sub.wants(event.type) and sub.covers(event.time):
                await bus.handle(DeliverWebhook(sub.id, event))

        return Consumer(f"webhook-{sub.id}", kafka, deliver)


