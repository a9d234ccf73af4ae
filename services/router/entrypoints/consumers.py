"""The router's Kafka entrances. Each record becomes one message for the bus:
contact events to route (committed only after the transition, dead-lettered when they
can't be routed), events to push to agent desktops, events to project into stats."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.loops import Consumer

from ..domain.commands import FeedDesktop, ProjectStats, RouteEvent
from ..messagebus import MessageBus


def routing(bus: MessageBus, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer) -> Consumer:
    return Consumer("router", consumer, lambda event: bus.handle(RouteEvent(event)), dead_letter_with=producer)


def desktop_feed(bus: MessageBus, consumer: AIOKafkaConsumer) -> Consumer:
    return Consumer("router-desktop", consumer, lambda event: bus.handle(FeedDesktop(event)))


def stats_projector(bus: MessageBus, consumer: AIOKafkaConsumer) -> Consumer:
    return Consumer("router-stats", consumer, lambda event: bus.handle(ProjectStats(event)))
