"""The one consume loop every service uses: decode a CloudEvent, run its handler,
dead-letter what can't be processed, and commit offsets only after the handler is done.

Infrastructure failures (Redis or Kafka down) are retried with backoff without
committing, so the service pauses and resumes instead of losing work.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared import logging as log
from shared import metrics
from shared.cloudevents import Envelope, InvalidEvent, decode
from shared.kafka import dead_letter

Handler = Callable[[Envelope], Awaitable[object]]
BatchHandler = Callable[[list[tuple[ConsumerRecord, Envelope]]], Awaitable[object]]
TRANSIENT = (RedisConnectionError, RedisTimeoutError, ConnectionError, OSError, asyncio.TimeoutError)
MAX_ATTEMPTS = 3


class Rejected(Exception):
    """A well-formed event that can't be acted on; goes to the dead-letter topic."""


async def run(consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, handle: Handler, service: str,
              commit_every_s: float = 0.2) -> None:
    logger = log.get(f"{service}.consumer")
    await _consume(consumer, lambda record: process(record, producer, handle, service, logger), max_records=200,
                   commit_every_s=commit_every_s)


async def _consume(consumer: AIOKafkaConsumer, one: Callable[[ConsumerRecord], Awaitable[None]], max_records: int,
                   commit_every_s: float | None = 0.0) -> None:
    """Each record in turn; a handled record's offset is committed at most `commit_every_s`
    later (None: never, for a view that starts at the latest offset anyway). A crash
    before the commit redelivers those records, which handlers dedupe."""
    handled: dict[TopicPartition, int] = {}
    committed_at = 0.0
    loop = asyncio.get_running_loop()
    while True:
        batch = await consumer.getmany(timeout_ms=500, max_records=max_records)
        for tp, records in batch.items():
            for record in records:
                await one(record)
            handled[TopicPartition(tp.topic, tp.partition)] = records[-1].offset + 1
        if handled and commit_every_s is not None and loop.time() - committed_at >= commit_every_s:
            await consumer.commit(handled)
            handled, committed_at = {}, loop.time()


async def _attempt(event, handle: Handler, logger, names: tuple[str, str], final=(), **about) -> object:
    """`handle(event)` until it succeeds. Infrastructure outages are waited out (the event
    is never skipped for those); any other error is retried MAX_ATTEMPTS times, then
    raised. Errors of the `final` types are raised at once. `about`: what to log (the
    event's type and id by default)."""
    paused, failed = names
    about = about or {"type": event.type, "id": event.id}
    attempts, delay = 0, 0.2
    while True:
        try:
            return await handle(event)
        except final:
            raise
        except TRANSIENT as exc:
            logger.warning(paused, error=repr(exc), retry_in=delay, **about)
        except Exception:
            attempts += 1
            logger.exception(failed, attempt=attempts, **about)
            if attempts >= MAX_ATTEMPTS:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)


async def process(record: ConsumerRecord, producer: AIOKafkaProducer, handle: Handler, service: str, logger) -> None:
    try:
        event = decode(record.key, record.value, record.headers)
    except InvalidEvent as exc:
        await _reject(record, producer, str(exc), service, logger)
        return
    try:
        result = await _attempt(event, handle, logger, ("handler_paused", "handler_failed"), final=Rejected)
    except Rejected as exc:
        await _reject(record, producer, str(exc), service, logger)
        return
    except Exception as exc:  # a bug or poison event must not stop the partition
        await _reject(record, producer, f"processing failed: {exc!r}", service, logger)
        return
    metrics.EVENTS_CONSUMED.labels(service=service, type=event.type).inc()
    logger.debug("event_handled", type=event.type, id=event.id, result=str(result))


async def _reject(record: ConsumerRecord, producer: AIOKafkaProducer, reason: str, service: str, logger) -> None:
    logger.warning("event_dead_lettered", topic=record.topic, offset=record.offset, reason=reason)
    metrics.DEADLETTERED.labels(service=service).inc()
    await dead_letter(producer, record, reason, service)


async def run_view(consumer: AIOKafkaConsumer, handle: Handler, service: str, commit: bool = True,
                   types: frozenset[str] | None = None) -> None:
    """The consume loop of a read-only view (stats, live feeds) over topics other
    consumers own: invalid events are skipped, not dead-lettered (their owner does
    that), infrastructure failures are waited out, and a handler bug skips the event
    after MAX_ATTEMPTS so a view never stalls the figures behind it. `types`: the only
    event types the view handles (the rest are skipped undecoded)."""
    logger = log.get(f"{service}.view")
    wanted = None if types is None else {t.encode() for t in types}

    async def one(record: ConsumerRecord) -> None:
        if wanted is None or _type_of(record) in wanted:  # others are not even decoded
            await _view_one(record, handle, logger)

    await _consume(consumer, one, max_records=500, commit_every_s=1.0 if commit else None)


def _type_of(record: ConsumerRecord) -> bytes | None:
    for name, value in record.headers or ():
        if name == "ce_type":
            return value
    return None


async def run_view_batches(consumer: AIOKafkaConsumer, handle: BatchHandler, service: str,
                           linger_s: float = 0.0) -> None:
    """A read-only view that takes each fetched batch whole, so its writes can be merged:
    `handle` gets [(record, event)] of the valid events in the order fetched, per
    partition. Failures are handled as in `run_view`; `linger_s` between fetches lets
    a batch grow (fewer, larger writes) at the price of that much delay."""
    logger = log.get(f"{service}.view")
    while True:
        fetched = await consumer.getmany(timeout_ms=500, max_records=2000)
        batch = [(record, event) for records in fetched.values() for record in records
                 if (event := _decoded(record)) is not None]
        if batch:
            with contextlib.suppress(Exception):  # still failing after MAX_ATTEMPTS: the view moves on
                await _attempt(batch, handle, logger, ("view_paused", "view_handler_failed"), events=len(batch))
        if fetched:
            await consumer.commit({TopicPartition(tp.topic, tp.partition): records[-1].offset + 1
                                   for tp, records in fetched.items()})
        if linger_s:
            await asyncio.sleep(linger_s)


def _decoded(record: ConsumerRecord) -> Envelope | None:
    try:
        return decode(record.key, record.value, record.headers)
    except InvalidEvent:
        return None


async def _view_one(record: ConsumerRecord, handle: Handler, logger) -> None:
    try:
        event = decode(record.key, record.value, record.headers)
    except InvalidEvent:
        return
    with contextlib.suppress(Exception):  # still failing after MAX_ATTEMPTS: the view moves on
        await _attempt(event, handle, logger, ("view_paused", "view_handler_failed"))
