"""A call to a closed queue (hours of operation, the router's clock injected): the caller
hears why in the BYE's Reason (sipp checks it) and is called back after the opening; a
caller without a number is told and the contact ends."""

import time

import pytest

from tests.routing.world import Clock
from tests.support.hours import closed_policy
from tests.support.router_harness import running_router
from tests.voice import sipp
from tests.voice.support import created_for

pytestmark = pytest.mark.voice


@pytest.fixture
def closed(tmp_path):
    return closed_policy(tmp_path / "policy")


@pytest.fixture
def clock():
    return Clock(now=int(time.time() * 1000))


@pytest.fixture
async def harness(infra, redis, closed, clock):  # the voice fixture's router: closed queues
    async with running_router(infra, clock=clock, policy_file=closed.file) as h:
        yield h


async def test_a_call_to_a_closed_queue_is_told_and_called_back_after_the_opening(harness, voice, contacts_topic,
                                                                                  closed, clock, tmp_path):
    caller = await sipp.run("caller_closed.xml", voice.sip.port, tmp_path / "known", keys={
        "caller": "+15551001", "service": "1000"})
    contact = await created_for(contacts_topic, "+15551001")
    deferred = await harness.routing.wait("contact.deferred", contact_id=contact.data.id)
    assert (deferred.data.action, deferred.data.opens_at_ms) == ("callback", closed.opens_at_ms)
    update = await contacts_topic.wait("contact.updated", contact_id=contact.data.id)
    assert update.data.metadata["callback_number"] == "+15551001"
    await caller.done()
    assert caller.ok, caller.explain()
    assert "SAID we are closed (mon-sun " in caller.files("logs")

    nobody = await sipp.run("caller_closed.xml", voice.sip.port, tmp_path / "anonymous", keys={
        "caller": "anonymous", "service": "1000"})
    anonymous = await created_for(contacts_topic, "anonymous")
    await nobody.done()
    assert nobody.ok, nobody.explain()
    ended = await contacts_topic.wait("contact.ended", contact_id=anonymous.data.id)
    assert ended.data.reason == "closed"  # nobody to call back: over

    assert harness.routing.of("contact.queued", contact_id=contact.data.id) == []
    clock.now = closed.opens_at_ms  # the queue opens (agents signed in before would have timed out)
    queued = await harness.routing.wait("contact.queued", contact_id=contact.data.id)
    assert queued.data.queue == "support"
    await harness.agent("opal", {"support": 3}, channels=["voice"])
    offer = await harness.routing.wait("offer.issued", contact_id=contact.data.id)
    assert offer.data.agent_id == "opal"
    assert harness.routing.of("contact.queued", contact_id=anonymous.data.id) == []
