"""What a policy change must not break: a contact for a queue the policy in force no
longer has is refused (dead-lettered by the consumer) and can come again, never dropped;
capacity comes back at the cost it was taken at, whatever the policy says now."""

import re

import pytest

from services.router.adapters.keys import key
from services.router.domain.commands import ApplyPolicy, RouteEvent
from services.router.domain.errors import PolicyConflict
from shared.cloudevents import new_event
from shared.consumer_loop import Rejected
from shared.events import ContactCreated, ContactUpdated, Customer, event_type
from shared.policy import Policy
from tests.routing.world import routing_policy

pytestmark = pytest.mark.routing


def without(queue: str) -> Policy:
    raw = routing_policy().model_dump()
    del raw["queues"][queue]
    return Policy.model_validate(raw)


async def test_a_contact_for_a_queue_no_longer_in_force_is_rejected_and_can_come_again(world):
    created = ContactCreated(id="late", channel="chat", queue="vip", customer=Customer(id="k"))
    event = RouteEvent(new_event(event_type("contact.created"), created, source="gw", key="late"))
    await world.state.install_policy(without("vip"))  # another replica's change; this one's copy is older
    with pytest.raises(Rejected, match="not in the policy in force"):
        await world.bus.handle(event)
    assert await world.state.get_contact("late") is None
    await world.state.install_policy(world.policy)  # back again: the same event routes
    assert await world.bus.handle(event) == "queued"


@pytest.mark.parametrize("end", ["complete", "decline"])
async def test_capacity_comes_back_at_the_cost_it_was_taken(world, end):
    await world.agent("a", {"support": 1}, channels=["chat"], capacity=100)
    cid = await world.contact()  # chat costs 34
    if end == "complete":
        await world.accept(cid)
    assert await world.agent_field("a", "load") == "34"
    cheaper = routing_policy().model_dump()
    cheaper["channels"]["chat"]["cost"] = 20  # given back at 20, 14 units would stay taken forever
    await world.bus.handle(ApplyPolicy(Policy.model_validate(cheaper)))
    if end == "complete":
        assert await world.state.complete_contact(cid, "a") == "ok"
    else:
        offer = await world.offer_of(cid)
        assert await world.state.decline_offer(offer["id"], "a") == "ok"
    assert await world.agent_field("a", "load") == "0"


async def test_an_offered_contact_whose_queue_is_removed_goes_home_not_nowhere(world):
    await world.agent("v", {"vip": 5}, channels=["chat"])
    cid = await world.contact(queue="vip")
    offer = await world.offer_of(cid)
    await world.bus.handle(ApplyPolicy(without("vip")))  # nobody waits in vip: allowed
    assert await world.state.decline_offer(offer["id"], "v") == "ok"
    c = await world.state.get_contact(cid)
    assert (c.state, c.queue) == ("queued", "support")  # the default queue, its place kept
    assert (await world.events("contact.requeued", contact_id=cid))[-1]["reason"] == "queue_removed"
    await world.agent("s", {"support": 1}, channels=["chat"])
    assert await world.offers_to("s") == [cid]


async def test_a_handled_contact_whose_queue_and_channel_are_gone_becomes_a_callback(world):
    await world.agent("b", {"billing": 1}, channels=["voice"])
    cid = await world.contact(queue="impatient", channel="voice")  # max wait 60 s
    await world.accept(cid)
    raw = routing_policy().model_dump()
    del raw["queues"]["impatient"]
    raw["queues"]["support"]["channels"] = ["chat", "email"]
    del raw["queues"]["support"]["sla"]["voice"]
    await world.bus.handle(ApplyPolicy(Policy.model_validate(raw)))
    await world.advance(61_000)  # its max-wait timer fires on a queue that is gone: no error
    update = ContactUpdated(contact_id=cid, requeue_reason="transfer_failed")
    await world.bus.handle(RouteEvent(new_event(event_type("contact.updated"), update, source="gw", key=cid)))
    assert await world.contact_state(cid) == "overflowed"
    overflowed = (await world.events("contact.overflowed", contact_id=cid))[-1]
    assert (overflowed["reason"], overflowed["action"]) == ("queue_removed", "callback")


async def test_the_stranded_check_is_part_of_the_install(world):
    """A contact that arrives between the handler's check and the install still stops it."""
    await world.contact(queue="vip")  # nobody serves vip: it waits (in its second step)
    with pytest.raises(PolicyConflict, match=re.escape(key("wait", "vip", 1, "chat"))):
        await world.state.install_policy(without("vip"))  # the store alone, no handler check
    assert (await world.state.active_policy())[1].queues.keys() == world.policy.queues.keys()
