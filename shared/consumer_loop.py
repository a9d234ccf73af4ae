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
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    LeaderNotAvailableError,
    MessageSizeTooLargeError,
    NodeNotReadyError,
    NotEnoughReplicasError,
    NotLeaderForPartitionError,
    RequestTimedOutError,
)
from redis.exceptions import (
    ClusterDownError,
    MasterDownError,
    OutOfMemoryError,
    ReadOnlyError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError as RedisResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared import logging as log
from shared import metrics, tracing
from shared.cloudevents import Envelope, InvalidEvent, decode
from shared.kafka import dead_letter

Handler = Callable[[Envelope], Awaitable[object]]
BatchHandler = Callable[[list[tuple[ConsumerRecord, Envelope]]], Awaitable[object]]
# Infrastructure that is down or busy for now: wait and retry, never skip the event. Redis
# refusals that pass (out of memory, a replica promoted, a busy script, loading) count too.
TRANSIENT = (RedisConnectionError, RedisTimeoutError, OutOfMemoryError, ReadOnlyError, MasterDownError,
             TryAgainError, ClusterDownError, ConnectionError, OSError, asyncio.TimeoutError,
             KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError, RequestTimedOutError,
             NotLeaderForPartitionError, LeaderNotAvailableError, NotEnoughReplicasError)
# The same refusals met inside a Lua script come back as a plain error naming them.
TRANSIENT_REPLIES = ("OOM ", "READONLY", "MASTERDOWN", "BUSY", "LOADING", "TRYAGAIN", "CLUSTERDOWN")


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, TRANSIENT) or (isinstance(exc, KafkaError) and exc.retriable):
        return True
    return isinstance(exc, RedisResponseError) and any(r in str(exc) for r in TRANSIENT_REPLIES)
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
    logger = log.get("consumer")
    while True:
        batch = await _fetch(consumer, logger, max_records)
        for tp, records in batch.items():
            for record in records:
                await one(record)
            handled[TopicPartition(tp.topic, tp.partition)] = records[-1].offset + 1
        if handled and commit_every_s is not None and loop.time() - committed_at >= commit_every_s:
            await _commit(consumer, handled, logger)
            handled, committed_at = {}, loop.time()


async def _fetch(consumer: AIOKafkaConsumer, logger, max_records: int) -> dict:
    """The next records; a broker error (coordinator moved, rebalance) is waited out."""
    try:
        return await consumer.getmany(timeout_ms=500, max_records=max_records)
    except KafkaError as exc:
        logger.warning("fetch_failed", error=repr(exc))
        await asyncio.sleep(1.0)
        return {}


async def _commit(consumer: AIOKafkaConsumer, offsets: dict, logger) -> None:
    """Commit; after a rebalance the commit is refused (CommitFailedError and the like)
    and the group re-joins on the next fetch: those records come again, and every
    handler dedupes them. The loop goes on either way."""
    try:
        await consumer.commit(offsets)
    except KafkaError as exc:
        logger.warning("commit_failed", error=repr(exc))


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
        except Exception as exc:
            if is_transient(exc):
                metrics.HANDLER_PAUSES.labels(loop=paused).inc()
                logger.warning(paused, error=repr(exc), retry_in=delay, **about)
            else:
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
        with tracing.handling(event, service):
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
    """To the dead-letter topic, however long that takes: the record is committed past only
    once it is there (a record too large for the topic goes truncated, and says so)."""
    logger.warning("event_dead_lettered", topic=record.topic, offset=record.offset, reason=reason)
    delay, truncate = 0.2, False
    while True:
        try:
            await dead_letter(producer, record, reason, service, truncate=truncate)
            break
        except MessageSizeTooLargeError:
            truncate = True
        except (KafkaError, OSError) as exc:  # the broker is away: keep the record and try again
            logger.warning("dead_letter_failed", error=repr(exc), retry_in=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
        except Exception as exc:  # the record can't be sent as it is: its head, our headers only
            if truncate:
                logger.error("dead_letter_impossible", topic=record.topic, offset=record.offset, error=repr(exc))
                break
            truncate = True
    metrics.DEADLETTERED.labels(service=service).inc()


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
            await _view_one(record, handle, logger, service)

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
        fetched = await _fetch(consumer, logger, 2000)
        batch = [(record, event) for records in fetched.values() for record in records
                 if (event := _decoded(record)) is not None]
        if batch:
            with contextlib.suppress(Exception):  # still failing after MAX_ATTEMPTS: the view moves on
                await _attempt(batch, handle, logger, ("view_paused", "view_handler_failed"), events=len(batch))
        if fetched:
            await _commit(consumer, {TopicPartition(tp.topic, tp.partition): records[-1].offset + 1
                                     for tp, records in fetched.items()}, logger)
        if linger_s:
            await asyncio.sleep(linger_s)


def _decoded(record: ConsumerRecord) -> Envelope | None:
    try:
        return decode(record.key, record.value, record.headers)
    except InvalidEvent:
        return None


async def _view_one(record: ConsumerRecord, handle: Handler, logger, service: str = "view") -> None:
    try:
        event = decode(record.key, record.value, record.headers)
    except InvalidEvent:
        return
    with contextlib.suppress(Exception), tracing.handling(event, service):  # still failing: the view moves on
        await _attempt(event, handle, logger, ("view_paused", "view_handler_failed"))
