"""A caller who hangs up while Kafka is away: contact.ended is sent again until Kafka
takes it, so the router never keeps offering a call that is gone. Fakes for the
publisher here: the retry logic only."""

from types import SimpleNamespace

import pytest
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError

from services.voice_gateway.handlers.teardown import tell_router_caller_left

pytestmark = [pytest.mark.unit, pytest.mark.voice]


class Publisher:
    def __init__(self, failures: list[Exception]):
        self.failures, self.ended = failures, []

    async def end_contact(self, contact_id: str, reason: str = "customer_left"):
        if self.failures:
            raise self.failures.pop(0)
        self.ended.append((contact_id, reason))


async def test_contact_ended_is_retried_until_kafka_takes_it():
    publisher = Publisher([KafkaTimeoutError(), KafkaConnectionError("broker away")])
    await tell_router_caller_left(SimpleNamespace(publisher=publisher), "v-1")
    assert publisher.ended == [("v-1", "customer_left")]


async def test_a_bug_is_not_retried_forever():
    publisher = Publisher([ValueError("a bug")])
    with pytest.raises(ValueError):
        await tell_router_caller_left(SimpleNamespace(publisher=publisher), "v-1")
