"""The router's Kafka entrances. Each record becomes one message for the bus:
contact events to route (committed only after the transition, dead-lettered when they
can't be routed), events to push to agent desktops, events to project into stats."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.loops import Consumer

from ..domain.commands import FeedDesktop, ProjectStats, RouteEvent
from ..handlers import desktop
from ..messagebus import MessageBus


def routing(bus: MessageBus, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer) -> Consumer:
    return Consumer("router", consumer, lambda event: bus.handle(RouteEvent(event)), dead_letter_with=producer)


def desktop_feed(bus: MessageBus, consumer: AIOKafkaConsumer) -> Consumer:
    """Each replica's own group (latest offset on its first start, committed offsets after);
    only the event types a desktop shows are decoded."""
    return Consumer("router-desktop", consumer, lambda event: bus.handle(FeedDesktop(event)),
                    types=frozenset(desktop.EVENT_HANDLERS))


def stats_projector(bus: MessageBus, consumer: AIOKafkaConsumer, every_s: float) -> Consumer:
    """Whole batches, `every_s` apart: the aggregates take one write per batch."""

    async def project(batch) -> None:
        events = [(f"{r.topic}:{r.partition}", r.offset, event) for r, event in batch]
        highwater = {f"{tp.topic}:{tp.partition}": consumer.highwater(tp) for tp in consumer.assignment()}
        await bus.handle(ProjectStats(events, {k: v for k, v in highwater.items() if v is not None}))

    return Consumer("router-stats", consumer, project, batches_every_s=every_s)
