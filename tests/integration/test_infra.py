"""The test infrastructure itself: a real broker and Redis, with the topics we need."""

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared import topics
from shared.redis_client import from_url
from shared.settings import CommonSettings

pytestmark = pytest.mark.integration
DEADLINE_S = 30


async def test_kafka_round_trip(infra):
    payload = uuid.uuid4().hex.encode()
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, acks="all",
                                enable_idempotence=True)
    # Assign + seek to the exact offset the broker acknowledged: no consumer group,
    # no rebalance wait, nothing to sleep for.
    consumer = AIOKafkaConsumer(bootstrap_servers=infra.kafka_bootstrap,
                                enable_auto_commit=False)
    await producer.start()
    await consumer.start()
    try:
        async with asyncio.timeout(DEADLINE_S):
            meta = await producer.send_and_wait(topics.DEADLETTER, payload, key=b"infra-test")
            tp = TopicPartition(topics.DEADLETTER, meta.partition)
            consumer.assign([tp])
            consumer.seek(tp, meta.offset)
            record = await consumer.getone()
    finally:
        await consumer.stop()
        await producer.stop()
    assert (record.key, record.value, record.offset) == (b"infra-test", payload, meta.offset)


async def test_redis_ping(infra):
    client = from_url(infra.redis_url)
    try:
        async with asyncio.timeout(DEADLINE_S):
            assert await client.ping()
    finally:
        await client.aclose()


async def test_topics_exist_with_configured_partitions(infra):
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
    await admin.start()
    try:
        async with asyncio.timeout(DEADLINE_S):
            described = await admin.describe_topics(list(topics.ALL))
    finally:
        await admin.close()
    expected = {name: CommonSettings().topic_partitions for name in topics.ALL}
    found = {t["topic"]: len(t["partitions"]) for t in described if t["error_code"] == 0}
    assert found == expected
