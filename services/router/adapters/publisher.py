"""Kafka publishing of the events the router makes outside a transition (an agent's
message to the customer, a survey answer); transitions' events go through the outbox."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from shared.cloudevents import Envelope
from shared.kafka import publish


class KafkaPublisher:
    def __init__(self, producer: AIOKafkaProducer):
        self.producer = producer

    async def publish(self, event: Envelope) -> None:
        """Returns once Kafka acknowledged (acks=all)."""
        await publish(self.producer, event)
