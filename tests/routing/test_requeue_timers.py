"""A contact re-queued after a failed hand-off (`contact.updated` with a requeue reason)
keeps relaxing through its queue's steps and still overflows at its max wait."""

import pytest

from services.router.domain.commands import RouteEvent
from shared.cloudevents import new_event
from shared.events import ContactUpdated, event_type

pytestmark = pytest.mark.routing


async def hand_off_failed(world, cid: str) -> None:
    update = ContactUpdated(contact_id=cid, requeue_reason="transfer_failed")
    assert await world.bus.handle(RouteEvent(new_event(event_type("contact.updated"), update, source="gw",
                                                       key=cid))) == "requeued"


async def test_a_requeued_contact_still_relaxes_its_steps(world):
    await world.agent("pro", {"tech": 5}, channels=["chat"])
    cid = await world.contact(queue="tech")
    await world.accept(cid)
    await world.state.set_agent_state("pro", "offline")  # the expert is gone
    await world.advance(45_000)  # long after the first step's 30 s: its timer fired as stale
    await hand_off_failed(world, cid)
    c = await world.state.get_contact(cid)
    assert (c.state, c.raw["step"]) == ("queued", "0")
    await world.agent("mid", {"tech": 2}, channels=["chat"])
    assert await world.offers_to("mid") == []  # step 0 wants level 4
    await world.advance(30_000)
    assert (await world.state.get_contact(cid)).raw["step"] == "1"
    assert await world.offers_to("mid") == [cid]


async def test_a_requeued_contact_still_overflows_at_its_max_wait(world):
    cid = await world.contact(queue="impatient", channel="voice")  # max wait 60 s, then callback
    await world.advance(20_000)  # waits 20 s
    await world.agent("bill", {"billing": 1}, channels=["voice"])
    await world.accept(cid)
    await world.state.set_agent_state("bill", "offline")
    await world.advance(70_000)  # handled past the max wait: its timer fired as stale
    await hand_off_failed(world, cid)
    assert await world.contact_state(cid) == "queued"
    await world.advance(39_000)
    assert await world.contact_state(cid) == "queued"  # 59 s of waiting in all
    await world.advance(2_000)
    assert await world.contact_state(cid) == "overflowed"
    assert (await world.events("contact.overflowed", contact_id=cid))[0]["action"] == "callback"
