"""The one consume loop every service uses: decode a CloudEvent, run its handler,
dead-letter what can't be processed, and commit offsets only after the handler is done.

Infrastructure failures (Redis or Kafka down) are retried with backoff without
committing, so the service pauses and resumes instead of losing work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared import logging as log
from shared import metrics
from shared.cloudevents import Envelope, InvalidEvent, decode
from shared.kafka import dead_letter

Handler = Callable[[Envelope], Awaitable[object]]
TRANSIENT = (RedisConnectionError, RedisTimeoutError, ConnectionError, OSError, asyncio.TimeoutError)
MAX_ATTEMPTS = 3


class Rejected(Exception):
    """A well-formed event that can't be acted on; goes to the dead-letter topic."""


async def run(consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, handle: Handler, service: str) -> None:
    logger = log.get(f"{service}.consumer")
    while True:
        batch = await consumer.getmany(timeout_ms=500, max_records=200)
        for tp, records in batch.items():
            for record in records:
                await process(record, producer, handle, service, logger)
            await consumer.commit({TopicPartition(tp.topic, tp.partition): records[-1].offset + 1})


async def process(record: ConsumerRecord, producer: AIOKafkaProducer, handle: Handler, service: str, logger) -> None:
    try:
        event = decode(record.key, record.value, record.headers)
    except InvalidEvent as exc:
        await _reject(record, producer, str(exc), service, logger)
        return
    attempts, delay = 0, 0.2
    while True:
        try:
            result = await handle(event)
            metrics.EVENTS_CONSUMED.labels(service=service, type=event.type).inc()
            logger.debug("event_handled", type=event.type, id=event.id, result=str(result))
            return
        except Rejected as exc:
            await _reject(record, producer, str(exc), service, logger)
            return
        except TRANSIENT as exc:
            # Infrastructure is down: wait for it, never skip the event.
            logger.warning("handler_paused", type=event.type, error=repr(exc), retry_in=delay)
        except Exception as exc:  # a bug or poison event must not stop the partition
            attempts += 1
            logger.exception("handler_failed", type=event.type, id=event.id, attempt=attempts)
            if attempts >= MAX_ATTEMPTS:
                await _reject(record, producer, f"processing failed: {exc!r}", service, logger)
                return
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)


async def _reject(record: ConsumerRecord, producer: AIOKafkaProducer, reason: str, service: str, logger) -> None:
    logger.warning("event_dead_lettered", topic=record.topic, offset=record.offset, reason=reason)
    metrics.DEADLETTERED.labels(service=service).inc()
    await dead_letter(producer, record, reason, service)


async def run_view(consumer: AIOKafkaConsumer, handle: Handler, service: str) -> None:
    """The consume loop of a read-only view (stats, live feeds) over topics other
    consumers own: invalid events are skipped, not dead-lettered (their owner does
    that), infrastructure failures are waited out, and a handler bug skips the event
    after MAX_ATTEMPTS so a view never stalls the figures behind it."""
    logger = log.get(f"{service}.view")
    while True:
        batch = await consumer.getmany(timeout_ms=500, max_records=500)
        for tp, records in batch.items():
            for record in records:
                await _view_one(record, handle, logger)
            await consumer.commit({TopicPartition(tp.topic, tp.partition): records[-1].offset + 1})


async def _view_one(record: ConsumerRecord, handle: Handler, logger) -> None:
    try:
        event = decode(record.key, record.value, record.headers)
    except InvalidEvent:
        return
    attempts, delay = 0, 0.2
    while True:
        try:
            await handle(event)
            return
        except TRANSIENT as exc:
            logger.warning("view_paused", type=event.type, error=repr(exc), retry_in=delay)
        except Exception:
            attempts += 1
            logger.exception("view_handler_failed", type=event.type, id=event.id, attempt=attempts)
            if attempts >= MAX_ATTEMPTS:
                return
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)
