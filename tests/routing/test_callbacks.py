"""Callback contacts in the router: the assignment names the number to dial and the
gateway that dials it; an unanswered call comes back to its place after the retry delay;
a callback given up on is completed with the reason."""

import pytest

from services.router.domain.commands import RouteEvent
from shared.cloudevents import new_event
from shared.events import ContactUpdated, event_type

pytestmark = pytest.mark.routing


async def update(world, **fields) -> None:
    data = ContactUpdated(**fields)
    await world.bus.handle(RouteEvent(new_event(event_type("contact.updated"), data, source="tests",
                                                key=data.contact_id)))


async def callback_contact(world) -> str:
    cid = await world.contact(channel="voice")
    await update(world, contact_id=cid, metadata={"callback": True, "callback_number": "+15550123",
                                                  "callback_gateway": "voice-1"})
    return cid


async def test_the_assignment_of_a_callback_names_the_number_and_the_gateway(world):
    cid = await callback_contact(world)
    await world.agent("ann", {"support": 1}, channels=["voice"])
    await world.accept(cid)
    assigned = (await world.events("contact.assigned", contact_id=cid))[0]
    assert assigned["callback"] == {"number": "+15550123", "gateway": "voice-1", "attempts": 0}


async def test_an_unanswered_callback_comes_back_after_the_retry_delay(world):
    cid = await callback_contact(world)
    await world.agent("ann", {"support": 1}, channels=["voice"])
    assert await world.accept(cid) == "ann"
    await update(world, contact_id=cid, requeue_reason="callback no answer", retry_in_s=300,
                 metadata={"callback_attempts": 1})
    assert await world.contact_state(cid) == "scheduled"  # out of every queue meanwhile
    assert await world.agent_field("ann", "load") == "0"
    assert (await world.events("contact.requeued", contact_id=cid))[-1]["reason"] == "callback no answer"
    await world.advance(299_999)
    assert await world.offers_to("ann") == []
    await world.advance(1)
    assert (await world.events("contact.requeued", contact_id=cid))[-1]["reason"] == "callback_retry"
    assert await world.offers_to("ann") == [cid]
    assert (await world.state.get_contact(cid)).metadata["callback_attempts"] == 1


async def test_a_callback_given_up_on_is_completed_with_the_reason(world):
    cid = await callback_contact(world)
    await world.agent("ann", {"support": 1}, channels=["voice"])
    await world.accept(cid)
    await update(world, contact_id=cid, close_reason="callback_unanswered")
    assert await world.contact_state(cid) == "completed"
    done = (await world.events("contact.completed", contact_id=cid))[0]
    assert (done["agent_id"], done["disposition"]) == ("ann", "callback_unanswered")
    assert await world.agent_field("ann", "load") == "0"


async def test_on_a_channel_that_calls_back_an_overflow_keeps_its_place_as_a_callback(world):
    doc = world.policy.model_dump()
    doc["channels"]["voice"]["callbacks"] = True
    world.policy = type(world.policy).model_validate(doc)
    await world.state.install_policy(world.policy)
    cid = await world.contact(queue="impatient", channel="voice")
    await world.advance(1_000)
    later = await world.contact(queue="impatient", channel="voice")
    await world.advance(59_000)  # cid's max wait
    assert (await world.events("contact.overflowed", contact_id=cid))[0] | {"wait_ms": 0} == {
        "contact_id": cid, "queue": "impatient", "channel": "voice", "reason": "max_wait", "action": "callback",
        "wait_ms": 0, "keeps_place": True}
    assert await world.contact_state(cid) == "queued"  # a callback contact now: still in line
    await world.advance(3_600_000)  # no further max wait for it
    assert len(await world.events("contact.overflowed", contact_id=cid)) == 1
    await world.agent("bo", {"billing": 3}, channels=["voice"])
    assert await world.offers_to("bo") == [cid]  # before `later`, which overflowed after it
    assert await world.contact_state(later) == "queued"
