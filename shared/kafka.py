"""Kafka plumbing: reliable producers (acks=all, idempotent), manual-commit consumers,
CloudEvents publishing and the dead-letter topic."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from shared import topics
from shared.cloudevents import Envelope, encode


def make_producer(bootstrap: str, **kw) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=2, **kw
    )


def make_consumer(bootstrap: str, group: str, *topic_names: str, **kw) -> AIOKafkaConsumer:
    # Offsets are committed by the handler loop only after the Redis transition is done.
    kw.setdefault("auto_offset_reset", "earliest")
    return AIOKafkaConsumer(
        *topic_names, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, **kw
    )


async def publish(producer: AIOKafkaProducer, event: Envelope, topic: str | None = None) -> None:
    """Send and wait for the broker's acknowledgement (acks=all)."""
    key, value, headers = encode(event)
    await producer.send_and_wait(topic or event.topic, value=value, key=key, headers=headers)


def dead_letter_headers(reason: str, service: str, **origin: object) -> list[tuple[str, bytes]]:
    """Why a record is on the dead-letter topic and where it came from (every writer of
    omniroute.deadletter uses these headers)."""
    return [
        ("omniroute_dlq_reason", reason.encode()[:4000]),
        ("omniroute_dlq_service", service.encode()),
        *((f"omniroute_dlq_{name}", str(value).encode()) for name, value in origin.items()),
    ]


async def dead_letter(producer: AIOKafkaProducer, record: ConsumerRecord, reason: str, service: str) -> None:
    """Keep the original bytes and headers, add why and where it came from."""
    headers = list(record.headers or []) + dead_letter_headers(
        reason, service, topic=record.topic, partition=record.partition, offset=record.offset)
    await producer.send_and_wait(topics.DEADLETTER, value=record.value, key=record.key, headers=headers)
