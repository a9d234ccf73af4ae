"""A replica's own consumer groups are named after the replica and keep committed
offsets: what is published while it is down reaches it when it comes back."""

import asyncio
import uuid

import pytest

from services.chat_gateway.settings import ChatSettings
from shared.cloudevents import new_event
from shared.events import MessagePosted, event_type
from shared.gateway import ChannelGateway
from shared.kafka import joined, make_producer, publish
from tests.support.poll import until
from tests.support.router_harness import infra_address, running_router

pytestmark = pytest.mark.integration


def posted(conversation: str) -> MessagePosted:
    return MessagePosted(message_id=f"m-{uuid.uuid4().hex[:8]}", conversation_id=conversation,
                         sender="customer", text="still there?")


async def publish_one(kafka: str, message: MessagePosted) -> None:
    producer = make_producer(kafka)
    await producer.start()
    try:
        await publish(producer, new_event(event_type("message.posted"), message, source="tests",
                                          key=message.conversation_id))
    finally:
        await producer.stop()


async def test_a_router_keeps_the_transcript_of_a_message_posted_while_it_was_down(infra, redis):
    same = {"router_group": f"test-router-{uuid.uuid4().hex[:8]}", "replica": "replica-a"}
    async with running_router(infra, **same) as h:
        await until(lambda: joined(h.service.consumers["desktop"].consumer), 30, what="desktop feed joined")
    message = posted(f"conv-{uuid.uuid4().hex[:8]}")
    await publish_one(infra_address(infra, "kafka_bootstrap"), message)  # nobody is reading
    async with running_router(infra, **same) as h:
        found = await until(lambda: h.service.deps.store.transcript(message.conversation_id), 30,
                            what="the transcript after the restart")
    assert [m["id"] for m in found] == [message.message_id]


class Recorder(ChannelGateway):
    channel = "chat"

    def __init__(self, settings):
        super().__init__(settings)
        self.seen: list[str] = []

    async def handle(self, event) -> None:
        self.seen.append(event.id)


async def test_a_gateway_restarted_gets_the_events_published_while_it_was_down(infra):
    kafka = infra_address(infra, "kafka_bootstrap")
    settings = ChatSettings(kafka_bootstrap=kafka, replica=f"gw-{uuid.uuid4().hex[:8]}")
    first = Recorder(settings)
    await first.start()
    try:
        await until(lambda: joined(first.consumer), 30, what="gateway joined")
    finally:
        await first.stop()
    message = posted("conv-x")
    await publish_one(kafka, message)
    again = Recorder(settings)
    assert again.consumer._group_id == first.consumer._group_id  # the same group, not a fresh one
    await again.start()
    try:
        await until(lambda: again.seen, 30, what="the event published while down")
        await asyncio.sleep(0)
    finally:
        await again.stop()
    assert len(again.seen) == 1
