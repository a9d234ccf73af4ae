"""The router's Kafka entrances. Each record becomes one message for the bus of its
routing domain (the event's `domain`): contact events to route (committed only after
the transition, dead-lettered when they can't be routed or name no known domain),
events to push to agent desktops, events to project into stats."""

from __future__ import annotations

from collections import defaultdict

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.cloudevents import Envelope
from shared.consumer_loop import Rejected
from shared.loops import Consumer

from ..domain.commands import FeedDesktop, ProjectStats, RouteEvent
from ..domain.errors import UnknownDomain
from ..handlers import desktop
from ..messagebus import MessageBus


def routing(bus: MessageBus, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer) -> Consumer:
    async def route(event: Envelope):
        try:
            target = bus.within(event.routing_domain)
        except UnknownDomain as exc:
            raise Rejected(str(exc)) from None
        return await target.handle(RouteEvent(event))

    return Consumer("router", consumer, route, dead_letter_with=producer)


def desktop_feed(bus: MessageBus, consumer: AIOKafkaConsumer) -> Consumer:
    """Each replica's own group (latest offset on its first start, committed offsets after);
    only the event types a desktop shows are decoded."""
    async def feed(event: Envelope) -> None:
        if event.routing_domain in bus.domains:  # no desktop of an unknown domain
            await bus.within(event.routing_domain).handle(FeedDesktop(event))

    return Consumer("router-desktop", consumer, feed, types=frozenset(desktop.EVENT_HANDLERS))


def stats_projector(bus: MessageBus, consumer: AIOKafkaConsumer, every_s: float) -> Consumer:
    """Whole batches, `every_s` apart: the aggregates take one write per batch."""

    async def project(batch) -> None:
        by_domain: dict[str, list] = defaultdict(list)
        for r, event in batch:
            by_domain[event.routing_domain].append((f"{r.topic}:{r.partition}", r.offset, event))
        highwater = {f"{tp.topic}:{tp.partition}": consumer.highwater(tp) for tp in consumer.assignment()}
        highwater = {k: v for k, v in highwater.items() if v is not None}
        for domain, events in by_domain.items():  # each domain's figures are its own
            if domain in bus.domains:
                await bus.within(domain).handle(ProjectStats(events, highwater))

    return Consumer("router-stats", consumer, project, batches_every_s=every_s)
