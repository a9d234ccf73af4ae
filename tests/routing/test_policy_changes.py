"""What a policy change must not break: a contact for a queue the policy in force no
longer has is refused (dead-lettered by the consumer) and can come again, never dropped;
capacity comes back at the cost it was taken at, whatever the policy says now."""

import pytest

from services.router.domain.commands import ApplyPolicy, RouteEvent
from shared.cloudevents import new_event
from shared.consumer_loop import Rejected
from shared.events import ContactCreated, Customer, event_type
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
