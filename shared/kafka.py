"""Kafka plumbing: reliable producers (acks=all, idempotent), manual-commit consumers,
CloudEvents publishing and the dead-letter topic."""

from __future__ import annotations

from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
)

from shared import topics
from shared.cloudevents import Envelope, encode


def make_producer(bootstrap: str, **kw) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=2, **kw
    )


class Membership(ConsumerRebalanceListener):
    """Remembers that the consumer has joined its group, partitions or none (a replica
    beyond the partition count is a ready standby). A group that starts at the latest
    offset commits that start at once: a restart before its first record resumes there
    instead of skipping what was published while it was down."""

    def __init__(self, consumer: AIOKafkaConsumer, pin_start: bool, start_at_ms: int | None = None) -> None:
        self.consumer, self.pin_start, self.joined = consumer, pin_start, False
        self.start_at_ms = start_at_ms  # a new group starts at the first record of this time

    async def on_partitions_revoked(self, revoked) -> None:
        pass

    async def on_partitions_assigned(self, assigned) -> None:
        fresh = [tp for tp in assigned if await self.consumer.committed(tp) is None]
        if fresh and self.start_at_ms is not None:
            found = await self.consumer.offsets_for_times({tp: self.start_at_ms for tp in fresh})
            ends = await self.consumer.end_offsets(fresh)
            for tp in fresh:
                self.consumer.seek(tp, found[tp].offset if found.get(tp) else ends[tp])
        if fresh and (self.pin_start or self.start_at_ms is not None):
            await self.consumer.commit({tp: await self.consumer.position(tp) for tp in fresh})
        self.joined = True


def make_consumer(bootstrap: str, group: str, *topic_names: str, start_at_ms: int | None = None,
                  **kw) -> AIOKafkaConsumer:
    """`start_at_ms`: a new group starts at the records of that time (a subscription made
    then), not at the start or the end of the topic."""
    # Offsets are committed by the handler loop only after the Redis transition is done.
    kw.setdefault("auto_offset_reset", "earliest")
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, **kw)
    consumer.membership = Membership(consumer, pin_start=kw["auto_offset_reset"] == "latest", start_at_ms=start_at_ms)
    consumer.subscribe(list(topic_names), listener=consumer.membership)
    return consumer


def joined(consumer: AIOKafkaConsumer) -> bool:
    """Has the consumer joined its group (made by `make_consumer`)?"""
    membership = getattr(consumer, "membership", None)
    return membership.joined if membership is not None else bool(consumer.assignment())


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


DEAD_LETTER_MAX_VALUE = 900_000  # under Kafka's default 1 MB record limit


async def dead_letter(producer: AIOKafkaProducer, record: ConsumerRecord, reason: str, service: str,
                      truncate: bool = False) -> None:
    """Keep the original bytes and headers, add why and where it came from. `truncate`:
    the record was too large for the topic; keep its head and its original size."""
    origin = {"topic": record.topic, "partition": record.partition, "offset": record.offset}
    value = record.value
    kept = [(k, v if v is not None else b"") for k, v in record.headers or []]  # a header may have no value
    if truncate:
        kept = []
        if value is not None:
            origin["truncated_from"] = len(value)
            value = value[:DEAD_LETTER_MAX_VALUE]
    headers = kept + dead_letter_headers(reason, service, **origin)
    await producer.send_and_wait(topics.DEADLETTER, value=value, key=record.key, headers=headers)
