"""The router's handlers on a fake store: the rules that live in Python (validation,
tiers from the CRM, who may act on what, refusals) without Redis or Kafka. The Lua
transitions themselves are tested on the real Redis (the other routing tests)."""

import pytest

from services.router.bootstrap import bootstrap
from services.router.domain import commands as c
from services.router.domain.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Unauthorized,
)
from services.router.handlers.policy import PolicyConflict
from services.router.settings import RouterSettings
from shared.cloudevents import new_event
from shared.consumer_loop import Rejected
from shared.events import ContactCreated, ContactUpdated, Customer, event_type
from tests.routing.world import POLICY_FILE, routing_policy
from tests.support.fake_store import FakeStore

pytestmark = [pytest.mark.unit, pytest.mark.routing]
ANN, BOB = c.Caller(agent_id="ann"), c.Caller(agent_id="bob")


class Published(list):
    async def publish(self, event) -> None:
        self.append(event)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def bus(store):
    settings = RouterSettings(admin_token="admin-secret", policy_file=POLICY_FILE)
    return bootstrap(settings, store=store, publisher=Published(), kafka=False).bus


def created(cid="c1", **kw):
    data = ContactCreated(id=cid, customer=Customer(id=kw.pop("customer", "cust-1")), **{"channel": "chat", **kw})
    return c.RouteEvent(new_event(event_type("contact.created"), data, source="tests", key=cid))


def profile(**kw) -> c.AgentProfile:
    return c.AgentProfile(**{"name": "Ann", "skills": {"support": 3}, "channels": ["chat"], "capacity": 100, **kw})


# -- contact events ------------------------------------------------------------------------
async def test_a_contact_the_policy_cannot_route_is_rejected_with_the_reason(bus, store):
    with pytest.raises(Rejected, match="channel 'sms' is not in the routing policy"):
        await bus.handle(created(channel="sms"))
    with pytest.raises(Rejected, match="queue 'nowhere' is not in the routing policy"):
        await bus.handle(created(queue="nowhere"))
    assert store.enqueued == []


async def test_the_crm_tier_wins_over_the_event_and_sets_the_lead(bus, store):
    policy = routing_policy()
    await store.set_customer("cust-1", {"tier": "premium"})
    assert await bus.handle(created(tier="basic")) == "queued"
    cid, spec = store.enqueued[0]
    assert (cid, spec["tier"], spec["queue"]) == ("c1", "premium", "support")
    assert spec["offset_ms"] == policy.priority_offset_ms("premium", "general") > 0


async def test_an_unknown_tier_falls_back_to_the_default(bus, store):
    await bus.handle(created(tier="platinum"))
    assert store.enqueued[0][1]["tier"] == routing_policy().default_tier


async def test_a_redelivered_event_is_a_duplicate(bus, store):
    event = created()
    assert await bus.handle(event) == "queued"
    assert await bus.handle(event) == "duplicate"
    assert len(store.enqueued) == 1


async def test_an_update_for_an_unknown_contact_is_rejected(bus):
    update = ContactUpdated(contact_id="ghost", tier="premium")
    with pytest.raises(Rejected, match="contact 'ghost' is unknown"):
        await bus.handle(c.RouteEvent(new_event(event_type("contact.updated"), update, source="t", key="ghost")))


async def test_escalation_adds_the_boost_to_the_lead(bus, store):
    policy = routing_policy()
    store.add_contact("c1", tier="enhanced")
    update = ContactUpdated(contact_id="c1", escalate=True)
    await bus.handle(c.RouteEvent(new_event(event_type("contact.updated"), update, source="t", key="c1")))
    boost = int(policy.escalation_boost_s * 1000 / policy.aging_rate)
    assert store.updates[0][1]["offset_ms"] == policy.priority_offset_ms("enhanced", "general") + boost


# -- who may act on what -------------------------------------------------------------------
async def test_tokens_name_the_caller(bus, store):
    await bus.handle(c.CreateAgent("ann", profile()))
    token = next(t for t, a in store.tokens.items() if a == "ann")
    assert await bus.handle(c.Authenticate(token)) == ANN
    assert (await bus.handle(c.Authenticate("admin-secret"))).admin
    with pytest.raises(Unauthorized):
        await bus.handle(c.Authenticate("nope"))


async def test_an_agent_answers_only_their_own_offer(bus, store):
    await bus.handle(c.CreateAgent("ann", profile()))
    store.add_contact("c1")
    store.add_offer("of-1", "c1", "ann")
    with pytest.raises(Forbidden):
        await bus.handle(c.AcceptOffer("of-1", BOB))
    with pytest.raises(NotFound, match="offer not found"):
        await bus.handle(c.AcceptOffer("of-9", ANN))
    assert await bus.handle(c.AcceptOffer("of-1", ANN)) == "ok"
    with pytest.raises(Conflict, match="no longer pending"):
        await bus.handle(c.DeclineOffer("of-1", ANN))


async def test_only_the_assigned_agent_completes_a_contact(bus, store):
    store.add_contact("c1", state="assigned", agent="ann")
    with pytest.raises(Forbidden):
        await bus.handle(c.CompleteContact("c1", BOB))
    assert await bus.handle(c.CompleteContact("c1", ANN, "solved")) == "ok"
    with pytest.raises(Conflict, match="contact is not assigned"):
        await bus.handle(c.CompleteContact("c1", ANN))


async def test_an_agent_writes_only_to_an_assigned_contact(bus, store):
    publisher = bus.deps.publisher
    store.add_contact("c1", state="queued", agent="ann")
    with pytest.raises(Conflict):
        await bus.handle(c.PostAgentMessage("c1", ANN, "hello"))
    store.contacts["c1"]["state"] = "assigned"
    message = await bus.handle(c.PostAgentMessage("c1", ANN, "hello"))
    assert [e.data for e in publisher] == [message] and message.sender == "agent"


async def test_agent_profiles_are_checked_against_the_policy(bus):
    with pytest.raises(Invalid, match="unknown channel"):
        await bus.handle(c.CreateAgent("ann", profile(channels=["fax"])))
    await bus.handle(c.CreateAgent("ann", profile()))
    with pytest.raises(Conflict, match="already exists"):
        await bus.handle(c.CreateAgent("ann", profile()))
    with pytest.raises(Forbidden):
        await bus.handle(c.GetAgent("ann", BOB))
    with pytest.raises(NotFound):
        await bus.handle(c.SetAgentState("zed", "available", c.ADMIN))


async def test_a_policy_that_strands_waiting_contacts_is_refused(bus, store):
    store.add_contact("c1", queue="tech")
    raw = routing_policy().model_dump()
    del raw["queues"]["tech"]
    smaller = routing_policy(**raw)
    with pytest.raises(PolicyConflict, match="wait:tech"):
        await bus.handle(c.ApplyPolicy(smaller))
    assert await bus.handle(c.ApplyPolicy(routing_policy())) == 1
