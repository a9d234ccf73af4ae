"""Read what the invariant checker compares: the whole event log from Kafka and the
routing state from Redis. An offline audit, not a hot path: it reads every agent and every
contact the log names."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from redis.asyncio import Redis

from shared import topics
from shared.cloudevents import InvalidEvent, decode
from shared.redis_client import from_url

from ..domain.invariants import AgentState, ContactState, Logged, Snapshot
from . import keys
from .keys import key
from .store import decoded

BATCH = 500  # Redis reads per pipeline


def _short(type_: str) -> str:
    return type_.removeprefix("omniroute.").rsplit(".", 1)[0]  # omniroute.contact.assigned.v1 -> contact.assigned


async def read_log(bootstrap: str, since_ms: int = 0,
                   domain: str = keys.DEFAULT_DOMAIN) -> tuple[list[Logged], set[str], set[str]]:
    """The contacts of `domain` created since `since_ms` (all: 0), their routing events,
    and those of them the router dead-lettered."""
    log, created, rejected = [], set(), set()
    for record in await _read_topics(bootstrap, topics.CONTACTS, topics.ROUTING, topics.DEADLETTER):
        if record.topic == topics.DEADLETTER:
            if dict(record.headers or []).get("ce_type", b"").endswith(b"contact.created.v1"):
                rejected.add((record.key or b"").decode(errors="replace"))
            continue
        try:
            env = decode(record.key, record.value, record.headers)
        except InvalidEvent:
            continue  # garbage on the topic: the router dead-lettered it; not a contact
        if env.routing_domain != domain:
            continue
        data = env.data
        kind = _short(env.type)
        if kind == "contact.created":
            if env.time.timestamp() * 1000 >= since_ms:
                created.add(data.id)
        elif env.topic == topics.ROUTING:
            if kind == "contact.overflowed" and data.keeps_place:
                kind = "contact.callback_kept"  # it stays in its queue: not an end
            log.append(Logged(id=env.id, type=kind, contact_id=getattr(data, "contact_id", ""),
                              agent_id=getattr(data, "agent_id", ""), at_ms=int(env.time.timestamp() * 1000)))
    return [e for e in log if e.contact_id in created], created, rejected & created


async def _read_topics(bootstrap: str, *names: str) -> list[Any]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()  # no subscription: no metadata otherwise
        parts = [TopicPartition(t, p) for t in names for p in sorted(consumer.partitions_for_topic(t) or ())]
        if not parts:
            return []
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        out = []
        while [tp for tp in parts if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
            for records in batch.values():
                out.extend(records)
        return out
    finally:
        await consumer.stop()


async def read_state(redis: Redis, contact_ids: set[str], domain: str = keys.DEFAULT_DOMAIN) -> Snapshot:
    agent_ids = sorted(m.decode() for m in await redis.smembers(keys.constant("agents", domain)))
    agents = {}
    for chunk in _chunks(agent_ids):
        agents.update(await _agents(redis, chunk, domain))
    contacts = {}
    for chunk in _chunks(sorted(contact_ids | {c for a in agents.values() for c in a.held})):
        contacts.update(await _contacts(redis, chunk, domain))
    return Snapshot(contacts=contacts, agents=agents, outbox_pending=await _outbox_pending(redis, domain))


def _chunks(items: list[str]) -> list[list[str]]:
    return [items[i:i + BATCH] for i in range(0, len(items), BATCH)]


async def _agents(redis: Redis, ids: list[str], domain: str) -> dict[str, AgentState]:
    pipe = redis.pipeline(transaction=False)
    for aid in ids:
        pipe.hgetall(key("agent", aid, domain=domain))
        pipe.smembers(key("agent_contacts", aid, domain=domain)).smembers(key("agent_offers", aid, domain=domain))
    found = await pipe.execute()
    out = {}
    for i, aid in enumerate(ids):
        raw, held, offer_ids = _decoded_or_empty(found[3 * i]), found[3 * i + 1], found[3 * i + 2]
        offered = await _offered_cost(redis, sorted(o.decode() for o in offer_ids), domain)
        out[aid] = AgentState(id=aid, capacity=int(raw.get("capacity", 0)), load=int(raw.get("load", 0)),
                              held=frozenset(h.decode() for h in held), offered_cost=offered)
    return out


async def _offered_cost(redis: Redis, offer_ids: list[str], domain: str) -> int:
    if not offer_ids:
        return 0
    pipe = redis.pipeline(transaction=False)
    for oid in offer_ids:
        pipe.hmget(key("offer", oid, domain=domain), "state", "cost")
    rows = await pipe.execute()
    return sum(int(cost or 0) for state, cost in rows if state == b"pending")


async def _contacts(redis: Redis, ids: list[str], domain: str) -> dict[str, ContactState | None]:
    pipe = redis.pipeline(transaction=False)
    for cid in ids:
        pipe.hgetall(key("contact", cid, domain=domain))
    raws = [_decoded_or_empty(r) for r in await pipe.execute()]
    out: dict[str, ContactState | None] = {}
    for cid, raw in zip(ids, raws, strict=True):
        if not raw:
            out[cid] = None
            continue
        out[cid] = ContactState(id=cid, state=raw.get("state", ""), agent=raw.get("agent", ""),
                                cost=int(raw.get("cost") or 0), reachable=await _reachable(redis, cid, raw, domain))
    return out


async def _reachable(redis: Redis, cid: str, c: dict[str, str], domain: str) -> bool:
    """Would routing ever pick this contact up again?"""
    state = c.get("state")
    if state == "queued":
        wait = key("wait", c.get("queue", ""), c.get("step", "0"), c.get("channel", ""), domain=domain)
        return await redis.zscore(wait, cid) is not None
    if state == "offered":
        offer = _decoded_or_empty(await redis.hgetall(key("offer", c.get("offer", ""), domain=domain)))
        timer = await redis.zscore(keys.constant("timers", domain), f"offer:{c.get('offer', '')}")
        return offer.get("state") == "pending" and timer is not None
    if state == "assigned":
        return bool(await redis.sismember(key("agent_contacts", c.get("agent", ""), domain=domain), cid))
    if state == "scheduled":  # waits for its queue to open, or for a callback's retry
        return await redis.zscore(keys.constant("timers", domain), f"open:{cid}") is not None
    return False


async def _outbox_pending(redis: Redis, domain: str) -> int:
    return int(await redis.xlen(keys.constant("outbox", domain)))


def _decoded_or_empty(raw: dict) -> dict[str, str]:
    return decoded(raw or {}) or {}


async def audit_inputs(bootstrap: str, redis_url: str, since_ms: int = 0,
                       domain: str = keys.DEFAULT_DOMAIN) -> tuple[list[Logged], Snapshot, set[str], set[str]]:
    log, created, rejected = await _read_log_retrying(bootstrap, since_ms, domain)
    redis = from_url(redis_url)
    try:
        return log, await read_state(redis, created, domain), created, rejected
    finally:
        await redis.aclose()


async def _read_log_retrying(bootstrap: str, since_ms: int, domain: str, tries: int = 3):
    for attempt in range(tries):
        try:
            return await read_log(bootstrap, since_ms, domain)
        except (KafkaError, OSError):  # a broker just restarted: metadata may lag a moment
            if attempt == tries - 1:
                raise
            await asyncio.sleep(2)
    raise AssertionError("unreachable")
