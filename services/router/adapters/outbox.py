"""Outbox relay: publishes the events Lua transitions appended to the outbox
stream, then acknowledges and trims them. A crash between publish and ack repeats a
publish with the same event id (the stream entry id), which consumers dedupe."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from shared import logging as log
from shared import topics, tracing
from shared.cloudevents import Envelope, encode
from shared.events import EVENT_MODELS
from shared.kafka import dead_letter_headers
from shared.ordering import sequence_of

from ..domain import SOURCE
from . import keys

GROUP = "relay"
CLAIM_IDLE_MS = 30_000
logger = log.get("router.outbox")


def envelope_from_entry(entry_id: str, fields: dict[bytes, bytes], domain: str = keys.DEFAULT_DOMAIN) -> Envelope:
    type_ = fields[b"type"].decode()
    model = EVENT_MODELS[type_][0]
    data = model.model_validate(json.loads(fields[b"data"]))
    time = datetime.fromtimestamp(int(fields[b"time"]) / 1000, UTC)
    # Entry ids are per stream: another domain's id is named apart (consumers dedupe on it).
    event_id = f"rt-{entry_id}" if domain == keys.DEFAULT_DOMAIN else f"rt-{domain}-{entry_id}"
    trace = fields.get(b"tp")  # the contact's trace (shared/tracing.py)
    return Envelope(id=event_id, source=SOURCE, type=type_, data=data, key=fields[b"key"].decode(),
                    time=time, sequence=sequence_of(entry_id), domain=domain,
                    extensions={"traceparent": trace.decode()} if trace else {})


class OutboxRelay:
    """Relays one domain's outbox stream."""

    def __init__(self, redis: Redis, producer: AIOKafkaProducer, consumer: str, domain: str = keys.DEFAULT_DOMAIN):
        self.redis, self.producer, self.consumer, self.domain = redis, producer, consumer, domain
        self.stream = keys.constant("outbox", domain)
        self._unsure = True  # our pending entries may hold unpublished events
        self._claimed_at = 0.0

    async def ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def run_once(self, block_ms: int = 500) -> int:
        # Our own unacknowledged entries first (after a failed publish, a restart or a
        # takeover), then new ones.
        entries = await self._read("0", block_ms=None) if self._unsure else []
        if not entries:
            self._unsure = False
            entries = await self._read(">", block_ms=block_ms)
        if not entries:
            return 0
        self._unsure = True  # until this batch is acknowledged
        futures = [await self._send(entry_id.decode(), fields) for entry_id, fields in entries if fields]
        await asyncio.gather(*futures)
        ids = [e[0] for e in entries]
        # Deleted first: a crash in between leaves a pending id without an entry, which
        # the next pending read meets with no fields and acknowledges.
        async with self.redis.pipeline(transaction=False) as pipe:  # one round trip
            await pipe.xdel(self.stream, *ids).xack(self.stream, GROUP, *ids).execute()
        self._unsure = False
        return len(ids)

    async def claim_abandoned(self) -> None:
        """Take over entries a crashed replica read but never acknowledged (at most every
        third of the claim idle time: they are that old at least)."""
        now = time.monotonic()
        if now - self._claimed_at < CLAIM_IDLE_MS / 3000:
            return
        self._claimed_at = now
        found = await self.redis.xautoclaim(self.stream, GROUP, self.consumer, CLAIM_IDLE_MS, start_id="0-0", count=500)
        if len(found) > 1 and found[1]:  # [next start, claimed entries, deleted ids]
            self._unsure = True

    async def _read(self, start: str, block_ms: int | None):
        res = await self.redis.xreadgroup(GROUP, self.consumer, {self.stream: start}, count=200, block=block_ms)
        return res[0][1] if res else []

    async def _send(self, entry_id: str, fields: dict[bytes, bytes]):
        try:
            event = envelope_from_entry(entry_id, fields, self.domain)
        except (KeyError, ValidationError, ValueError) as exc:
            # A contract bug must not block the relay: keep the entry's bytes for inspection.
            logger.error("outbox_entry_invalid", entry=entry_id, error=str(exc))
            value = json.dumps({k.decode(): v.decode() for k, v in fields.items()}).encode()
            headers = dead_letter_headers(f"outbox entry invalid: {exc}", "router", origin="outbox")
            return await self.producer.send(topics.DEADLETTER, value=value, headers=headers)
        with tracing.publishing(event, "router"):
            key, value, headers = encode(event)
            return await self.producer.send(event.topic, value=value, key=key, headers=headers)
