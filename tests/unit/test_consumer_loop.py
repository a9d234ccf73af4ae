"""The consume loop survives what a broker does to it (a refused commit after a
rebalance, a fetch error, a dead-letter topic that is away for a while) and dead-letters
what can't be decoded. Fakes stand in for aiokafka here: the loop's own logic only."""

import asyncio
import json
from types import SimpleNamespace

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError, KafkaConnectionError, NodeNotReadyError

from shared import consumer_loop, topics
from shared.events import event_type
from tests.support.poll import until

pytestmark = pytest.mark.unit
VALID = json.dumps({"id": "c1", "channel": "chat", "customer": {"id": "u"}}).encode()


def record(offset: int, headers=None, value=VALID):
    headers = headers if headers is not None else [
        ("ce_specversion", b"1.0"), ("ce_id", f"e{offset}".encode()), ("ce_source", b"t"),
        ("ce_type", event_type("contact.created").encode())]
    return SimpleNamespace(topic=topics.CONTACTS, partition=0, offset=offset, key=b"c1", value=value,
                           headers=headers)


class FakeConsumer:
    """Hands out the scripted batches; each entry is records or an exception to raise."""

    def __init__(self, script, commit_errors=()):
        self.script, self.commit_errors, self.commits = list(script), list(commit_errors), []

    async def getmany(self, timeout_ms, max_records):
        if not self.script:
            await asyncio.sleep(0.01)
            return {}
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return {TopicPartition(topics.CONTACTS, 0): step}

    async def commit(self, offsets):
        if self.commit_errors:
            raise self.commit_errors.pop(0)
        self.commits.append(offsets)


class FakeProducer:
    def __init__(self, failures=0):
        self.failures, self.sent = failures, []

    async def send_and_wait(self, topic, value, key=None, headers=None):
        if self.failures:
            self.failures -= 1
            raise KafkaConnectionError("broker away")
        self.sent.append((topic, value, dict(headers)))


async def running(consumer, producer, handled):
    async def handle(event):
        handled.append(event.id)

    return asyncio.create_task(consumer_loop.run(consumer, producer, handle, "test", commit_every_s=0))


async def test_a_refused_commit_or_fetch_does_not_end_the_loop():
    consumer = FakeConsumer([[record(1)], NodeNotReadyError("coordinator moved"), [record(2)]],
                            commit_errors=[CommitFailedError("rebalanced")])
    handled: list[str] = []
    task = await running(consumer, FakeProducer(), handled)
    try:
        await until(lambda: handled == ["e1", "e2"], 10, what="both records handled")
        await until(lambda: consumer.commits, 10, what="a later commit")
        assert not task.done()
    finally:
        task.cancel()


async def test_undecodable_records_wait_for_the_dead_letter_topic_and_the_loop_goes_on():
    no_value = [("ce_specversion", b"1.0"), ("ce_id", None), ("ce_source", b"t"),
                ("ce_type", event_type("contact.created").encode())]
    consumer = FakeConsumer([[record(1, headers=no_value)], [record(2)]])
    producer = FakeProducer(failures=2)
    handled: list[str] = []
    task = await running(consumer, producer, handled)
    try:
        await until(lambda: handled == ["e2"], 10, what="the next record handled")
        (topic, value, headers), = producer.sent
        assert topic == topics.DEADLETTER and value == VALID
        assert b"without a value: ce_id" in headers["omniroute_dlq_reason"] and headers["ce_id"] == b""
        assert not task.done()
    finally:
        task.cancel()
