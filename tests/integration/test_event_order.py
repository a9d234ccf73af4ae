"""Events about one contact can reach Kafka out of order: a relay that stalls between
reading the outbox and publishing sends its entries after newer ones. The router stamps
each event with its transition's order (ce_sequence) and state-keeping consumers ignore
what is older than what they applied: a late event never regresses a conversation."""

import uuid

import pytest
from redis.asyncio import Redis

from services.chat_gateway.adapters.store import ChatStore
from services.chat_gateway.bootstrap import build as build_chat
from services.chat_gateway.settings import ChatSettings
from services.router.adapters.keys import OUTBOX
from services.router.adapters.outbox import GROUP, OutboxRelay
from shared.kafka import joined, make_producer
from shared.ordering import update_if_newer
from tests.support.poll import until
from tests.support.router_harness import infra_address, running_router

pytestmark = pytest.mark.integration


async def test_a_relay_stalled_between_read_and_publish_cannot_regress_a_chat(infra, redis):
    kafka = infra_address(infra, "kafka_bootstrap")
    async with running_router(infra) as h:
        await next(loop for loop in h.service.loops if loop.name == "outbox-relay").stop()  # relays by hand below
        chat = build_chat(ChatSettings(kafka_bootstrap=kafka, redis_url=infra_address(infra, "redis_url"),
                                       replica=f"order-{uuid.uuid4().hex[:6]}"))
        producer = make_producer(kafka)
        await chat.start()
        await producer.start()
        try:
            await until(lambda: joined(chat.gateway.consumer), 30, what="chat gateway joined")
            cid = f"chat-{uuid.uuid4().hex[:8]}"
            await ChatStore(h.redis).create(cid, {"state": "starting", "created_ms": "0", "queue": ""})
            ann = await h.agent("ann", {"support": 1})
            await h.contact(contact_id=cid, channel="chat")
            store = h.service.deps.store
            await until(lambda: _state(store, cid, "offered"), 30, what="the contact offered")

            # A replica's relay reads queued + offer.issued from the outbox, then stalls.
            await h.redis.xreadgroup(GROUP, "stalled", {OUTBOX: ">"})
            offer = (await store.pending_offers("ann"))[0]
            assert (await h.http.post(f"/v1/offers/{offer.id}/accept", headers=ann)).status_code == 200
            await OutboxRelay(h.redis, producer, "healthy").run_once()  # accepted + assigned go out first
            assigned = await h.routing.wait("contact.assigned", contact_id=cid)
            await until(lambda: _chat_state(h.redis, cid, "assigned"), 30, what="chat assigned")

            await OutboxRelay(h.redis, producer, "stalled").run_once()  # it resumes: its entries go out late
            late = await h.routing.wait("contact.queued", contact_id=cid)
            assert h.routing.events.index(late) > h.routing.events.index(assigned)  # really out of order
            assert late.sequence < assigned.sequence  # the stamp says which came first

            record = next(r for r in h.routing.raw if dict(r.headers).get("ce_id") == late.id.encode())
            await until(lambda: _consumed(chat.gateway.consumer, record), 30, what="chat read the late event")
            conv = await ChatStore(h.redis).get(cid)
            assert (conv["state"], conv["seq"]) == ("assigned", assigned.sequence)
        finally:
            await producer.stop()
            await chat.stop()


async def _state(store, cid: str, state: str) -> bool:
    contact = await store.get_contact(cid)
    return contact is not None and contact.state == state


async def _chat_state(redis: Redis, cid: str, state: str) -> bool:
    return (await ChatStore(redis).get(cid) or {}).get("state") == state


async def _consumed(consumer, record) -> bool:
    from aiokafka import TopicPartition

    committed = await consumer.committed(TopicPartition(record.topic, record.partition))
    return committed is not None and committed > record.offset


async def test_update_if_newer_applies_news_and_ignores_the_stale_and_the_closed(redis):
    key = "test:order"
    assert await update_if_newer(redis, key, "2", {"state": "x"}) == -1  # no such hash: not ours
    await redis.hset(key, "state", "new")
    assert await update_if_newer(redis, key, "000-2", {"state": "assigned"}) == 1
    assert await update_if_newer(redis, key, "000-1", {"state": "queued"}) == 0
    assert await update_if_newer(redis, key, None, {"note": "unordered"}) == 1
    assert await update_if_newer(redis, key, "000-3", {"state": "ended", "closed": "1"}) == 1
    assert await update_if_newer(redis, key, "000-4", {"state": "assigned"}) == 0
    assert (await redis.hget(key, "state"), await redis.hget(key, "seq")) == (b"ended", b"000-3")
