"""Hours of operation on the real Redis with an injected clock: a contact arriving while
its queue is closed waits for the opening (email, its wait counted from then), becomes a
callback at the opening (voice), or is told the hours and leaves (chat); contacts already
waiting at closing are served; bad schedules are refused at load, naming the fault."""

import pytest
from pydantic import ValidationError

from services.router.domain.commands import RouteEvent
from shared.cloudevents import new_event
from shared.events import ContactEnded, event_type
from shared.hours import Schedule
from tests.routing.world import START_MS, routing_policy

pytestmark = pytest.mark.routing
HOUR = 3_600_000
# START_MS is Monday 1970-01-12 13:46:40 UTC: open (09:00-17:00).
MONDAY_18H = START_MS + 4 * HOUR + 13 * 60_000 + 20_000
TUESDAY_10H = START_MS + 20 * HOUR + 13 * 60_000 + 20_000  # a short day: 10:00-12:00


async def test_an_email_arriving_after_hours_waits_for_the_opening_and_its_wait_counts_from_then(world):
    world.clock.now = MONDAY_18H
    cid = await world.contact(channel="email", queue="daytime")
    assert await world.contact_state(cid) == "scheduled"  # nobody is offered it out of hours
    assert await world.events("contact.deferred", contact_id=cid) == [{
        "contact_id": cid, "queue": "daytime", "channel": "email", "reason": "closed", "action": "wait",
        "opens_at_ms": TUESDAY_10H, "hours": "mon-fri 09:00-17:00 (UTC)"}]
    assert await world.events("contact.queued", contact_id=cid) == []
    await world.advance(TUESDAY_10H - MONDAY_18H - 1)
    assert await world.contact_state(cid) == "scheduled"
    await world.agent("dee", {"daytime": 1}, channels=["email"], login=False)
    await world.advance(1)  # 10:00 on the holiday's short day
    assert len(await world.events("contact.queued", contact_id=cid)) == 1
    await world.advance(5_000)
    await world.state.set_agent_state("dee", "available")
    await world.accept(cid)
    assert (await world.events("contact.assigned", contact_id=cid))[0]["wait_ms"] == 5_000


async def test_after_hours_a_call_becomes_a_callback_at_the_opening_and_a_chat_leaves(world):
    world.clock.now = MONDAY_18H
    call = await world.contact(channel="voice", queue="daytime")
    chat = await world.contact(channel="chat", queue="daytime")
    assert (await world.events("contact.deferred", contact_id=call))[0]["action"] == "callback"
    assert (await world.events("contact.deferred", contact_id=chat))[0]["action"] == "leave"
    assert await world.contact_state(chat) == "closed"  # over: the chat gateway tells the hours
    await world.advance(TUESDAY_10H - MONDAY_18H - 1)
    await world.agent("dee", {"daytime": 1}, channels=["voice", "chat"])
    assert await world.offers_to("dee") == []
    await world.advance(1)
    assert await world.offers_to("dee") == [call]


async def test_a_scheduled_contact_whose_customer_leaves_is_closed_not_abandoned(world):
    world.clock.now = MONDAY_18H
    call = await world.contact(channel="voice", queue="daytime")
    await world.bus.handle(RouteEvent(new_event(event_type("contact.ended"), ContactEnded(contact_id=call),
                                                source="tests", key=call)))
    assert await world.contact_state(call) == "closed"
    assert await world.events("contact.abandoned", contact_id=call) == []
    await world.advance(TUESDAY_10H - MONDAY_18H)
    assert await world.events("contact.queued", contact_id=call) == []  # its opening timer is gone


async def test_contacts_waiting_at_closing_are_served(world):
    waiting = await world.contact(channel="chat", queue="daytime")  # open: it waits
    world.clock.now = MONDAY_18H
    await world.agent("dee", {"daytime": 1}, channels=["chat"])
    assert await world.offers_to("dee") == [waiting]


def test_bad_schedules_are_refused_naming_the_fault():
    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Olympus'"):
        Schedule(timezone="Mars/Olympus")
    with pytest.raises(ValidationError, match="mon: opening ranges overlap"):
        Schedule(timezone="UTC", weekly={"mon": ["09:00-13:00", "12:00-17:00"]})
    with pytest.raises(ValidationError, match="ends before it starts"):
        Schedule(timezone="UTC", weekly={"tue": ["17:00-09:00"]})
    with pytest.raises(ValidationError, match="listed twice"):
        Schedule(timezone="UTC", holidays=[{"date": "2026-12-25"}, {"date": "2026-12-25"}])
    with pytest.raises(ValidationError, match="unknown schedule 'night'"):
        routing_policy(queues={"q": {"channels": ["chat"], "schedule": "night",
                                     "steps": [{"skills": [{"skill": "x"}]}]}}, default_queue="q", routes=[])
