"""Transfers and escalation by the agent who holds a contact: it keeps its arrival time
and tier (so its place), a named agent or a supervisor is offered it first for a while,
and the agent who let go is skipped while anyone else can take it."""

import pytest

from services.router.domain.commands import ADMIN, Caller, TransferContact
from services.router.domain.errors import Conflict, Forbidden, Invalid

pytestmark = pytest.mark.routing


async def assigned_to(world, aid: str, **contact) -> str:
    cid = await world.contact(**contact)
    assert await world.accept(cid) == aid
    return cid


async def transfer(world, cid: str, aid: str, **target) -> str:
    return await world.bus.handle(TransferContact(cid, Caller(agent_id=aid), **target))


async def test_a_transfer_to_a_queue_keeps_the_contacts_place(world):
    await world.agent("ann", {"support": 3}, channels=["chat"])
    first = await assigned_to(world, "ann", channel="chat")
    await world.advance(5_000)
    later = await world.contact(channel="chat", queue="tech")  # nobody in tech yet
    await world.advance(5_000)
    assert await transfer(world, first, "ann", queue="tech", note="needs a reset", reason="wrong queue") == "ok"
    moved = await world.state.get_contact(first)
    assert (moved.state, moved.queue, moved.agent) == ("queued", "tech", "")
    assert moved.metadata["transfer"]["note"] == "needs a reset"
    assert (await world.events("contact.transferred", contact_id=first))[0] == {
        "contact_id": first, "channel": "chat", "from_agent": "ann", "from_queue": "support", "queue": "tech",
        "to_agent": None, "kind": "queue", "reason": "wrong queue", "note": "needs a reset", "warm": False}
    assert await world.agent_field("ann", "load") == "0"  # its capacity is back
    await world.agent("tia", {"tech": 5}, channels=["chat"], capacity=34)
    assert await world.offers_to("tia") == [first]  # it arrived before `later`: first again
    assert await world.contact_state(later) == "queued"


async def test_the_transferring_agent_is_skipped_while_anyone_else_can_take_it(world):
    await world.agent("ann", {"support": 3}, channels=["chat"])
    cid = await assigned_to(world, "ann", channel="chat")
    assert await transfer(world, cid, "ann") == "ok"  # back to its own queue
    assert await world.contact_state(cid) == "queued"  # ann alone: not offered back at once
    await world.agent("bob", {"support": 1}, channels=["chat"])
    assert await world.offers_to("bob") == [cid]


async def test_a_transfer_to_a_named_agent_waits_for_them_then_goes_to_anyone(world):
    await world.agent("ann", {"support": 3}, channels=["chat"])
    await world.agent("bob", {"support": 1}, channels=["chat"], capacity=34)
    held = await assigned_to(world, "ann", channel="chat")  # longest idle: ann first
    busy = await world.contact(channel="chat")
    assert await world.accept(busy) == "bob"  # bob is full now
    await world.agent("cat", {"support": 1}, channels=["chat"])
    assert await transfer(world, held, "ann", agent="bob", note="asked for Bob") == "ok"
    assert await world.contact_state(held) == "queued"  # cat is free, but it waits for bob
    assert (await world.events("contact.transferred", contact_id=held))[0]["to_agent"] == "bob"
    assert await world.state.complete_contact(busy, "bob") == "ok"
    assert await world.offers_to("bob") == [held]
    await world.state.decline_offer((await world.offer_of(held))["id"], "bob")
    assert await world.offers_to("cat") == [held]  # bob declined: anyone else


async def test_a_named_agent_who_never_frees_up_loses_it_to_the_queue_after_the_hold(world):
    await world.agent("ann", {"support": 3}, channels=["chat"])
    await world.agent("bob", {"support": 1}, channels=["chat"], capacity=34, login=False)
    await world.state.set_agent_state("bob", "not_ready")
    cid = await assigned_to(world, "ann", channel="chat")
    await world.agent("cat", {"support": 1}, channels=["chat"])
    assert await transfer(world, cid, "ann", agent="bob") == "ok"
    await world.advance(29_999)
    assert await world.contact_state(cid) == "queued"
    await world.advance(1)  # transfer_hold_s: 30
    assert await world.offers_to("cat") == [cid]


async def test_escalation_goes_to_a_supervisor_of_the_queue_present_and_free_first(world):
    await world.agent("ann", {"support": 3}, channels=["chat"])
    cid = await assigned_to(world, "ann", channel="chat")
    with pytest.raises(Conflict, match="no supervisor"):
        await transfer(world, cid, "ann", supervisor=True)
    await world.agent("sue", {}, channels=["chat"], capacity=34)
    await world.agent("sid", {}, channels=["chat"], login=False)
    await world.state.set_agent_state("sid", "not_ready")  # present, not taking work
    await world.agent("bob", {"support": 1}, channels=["chat"])
    busy = await world.contact(channel="chat")
    assert await world.accept(busy) == "bob"
    assert await transfer(world, cid, "ann", supervisor=True, reason="customer asks for a manager") == "ok"
    assert await world.offers_to("sue") == [cid]  # a supervisor, without the queue's skill
    moved = await world.state.get_contact(cid)
    assert moved.escalated and moved.metadata["transfer"]["kind"] == "supervisor"


async def test_transfers_are_refused_in_clear_terms(world):
    await world.agent("ann", {"support": 3}, channels=["chat"])
    await world.agent("off", {"support": 3}, channels=["chat"], login=False)
    cid = await assigned_to(world, "ann", channel="chat")
    with pytest.raises(Forbidden):
        await transfer(world, cid, "bob", queue="tech")
    with pytest.raises(Invalid, match="does not serve"):
        await transfer(world, cid, "ann", queue="impatient")  # voice only
    with pytest.raises(Invalid, match="does not serve"):
        await transfer(world, cid, "ann", queue="nowhere")
    with pytest.raises(Conflict, match="offline"):
        await transfer(world, cid, "ann", agent="off")
    with pytest.raises(Invalid, match="no such agent"):
        await transfer(world, cid, "ann", agent="ghost")
    assert (await world.state.get_contact(cid)).agent == "ann"  # nothing moved
    assert await world.bus.handle(TransferContact(cid, ADMIN, queue="tech")) == "ok"  # for the agent
    with pytest.raises(Forbidden):  # no longer ann's
        await transfer(world, cid, "ann", queue="support")


async def test_a_warm_transfer_keeps_the_contact_with_the_agent_until_the_next_one_accepts(world):
    await world.agent("ann", {"support": 3}, channels=["chat"])
    cid = await assigned_to(world, "ann", channel="chat")
    await world.agent("bob", {}, channels=["chat"])  # no skill needed: a named agent
    assert await transfer(world, cid, "ann", agent="bob", warm=True, note="she asked for you") == "consulting"
    held = await world.state.get_contact(cid)
    assert (held.state, held.agent) == ("assigned", "ann")  # ann stays with the customer meanwhile
    assert await world.offers_to("bob") == [cid]
    offer = (await world.events("offer.issued", contact_id=cid, agent_id="bob"))[0]
    assert await world.state.accept_offer(offer["offer_id"], "bob") == "ok"
    moved = await world.state.get_contact(cid)
    assert (moved.state, moved.agent, moved.metadata["transfer"]["note"]) == ("assigned", "bob", "she asked for you")
    assert await world.agent_field("ann", "load") == "0"
    assert (await world.events("contact.transferred", contact_id=cid))[0]["warm"] is True
    assert [e["agent_id"] for e in await world.events("contact.assigned", contact_id=cid)] == ["ann", "bob"]
    assert await world.state.complete_contact(cid, "bob") == "ok"


async def test_a_warm_transfer_the_next_agent_declines_stays_with_the_first(world):
    await world.agent("ann", {"support": 3}, channels=["chat"])
    cid = await assigned_to(world, "ann", channel="chat")
    await world.agent("bob", {}, channels=["chat"])
    assert await transfer(world, cid, "ann", agent="bob", warm=True) == "consulting"
    offer = (await world.events("offer.issued", contact_id=cid, agent_id="bob"))[0]
    assert await world.state.decline_offer(offer["offer_id"], "bob", "busy with a VIP") == "ok"
    declined = (await world.events("offer.declined", contact_id=cid))[0]
    assert declined["consult_for"] == "ann"  # ann's desktop is told
    still = await world.state.get_contact(cid)
    assert (still.state, still.agent) == ("assigned", "ann")
    assert await world.agent_field("bob", "load") == "0"
    assert await world.events("contact.transferred", contact_id=cid) == []


async def test_a_warm_transfer_is_withdrawn_when_the_agent_completes_and_needs_a_free_target(world):
    await world.agent("ann", {"support": 3}, channels=["chat"])
    await world.agent("bob", {"support": 1}, channels=["chat"], capacity=34)
    cid = await assigned_to(world, "ann", channel="chat")
    other = await world.contact(channel="chat")
    assert await world.accept(other) == "bob"  # bob is full
    with pytest.raises(Conflict, match="needs them free"):
        await transfer(world, cid, "ann", agent="bob", warm=True)
    with pytest.raises(Invalid, match="names an agent"):
        await transfer(world, cid, "ann", queue="tech", warm=True)
    await world.agent("cy", {}, channels=["chat"])
    assert await transfer(world, cid, "ann", agent="cy", warm=True) == "consulting"
    assert await world.state.complete_contact(cid, "ann") == "ok"  # ann finished it herself
    assert (await world.events("offer.expired", contact_id=cid))[0]["consult_for"] == "ann"
    assert await world.offers_to("cy") == [] and await world.agent_field("cy", "load") == "0"
