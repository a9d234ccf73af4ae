"""Agent selection strategies, preferred agent, offers (decline, timeout, misses),
capacity and blocking, wrap-up and presence."""

import pytest

from services.router.adapters import keys

pytestmark = pytest.mark.routing


async def _busy_then_free(world, aid, queue="skilled"):
    """Give `aid` one contact and complete it: its last contact ended now."""
    cid = await world.contact(queue=queue)
    assert (await world.offer_of(cid))["agent"] == aid
    await world.accept(cid)
    await world.state.complete_contact(cid, aid)


async def test_longest_idle_is_the_default_and_counts_from_the_last_contact(world):
    await world.agent("early", {"support": 1}, channels=["chat"])
    await world.advance(1_000)
    await world.agent("late", {"support": 1}, channels=["chat"])
    await world.advance(1_000)
    await _busy_then_free(world, "early", queue="support")  # early's last contact just ended
    await world.advance(1_000)
    cid = await world.contact()
    assert (await world.offer_of(cid))["agent"] == "late"
    # an agent with work in hand comes after every idle one
    cid2 = await world.contact()
    assert (await world.offer_of(cid2))["agent"] == "early"


async def test_most_skilled_prefers_the_highest_level(world):
    await world.agent("good", {"sales": 3}, channels=["chat"])
    await world.agent("best", {"sales": 5}, channels=["chat"])
    await world.agent("ok", {"sales": 1}, channels=["chat"])
    cid = await world.contact(queue="skilled")
    assert (await world.offer_of(cid))["agent"] == "best"


async def test_least_occupied_prefers_the_emptiest_agent(world):
    await world.agent("a", {"sales": 1}, channels=["chat"])
    await world.agent("b", {"sales": 1}, channels=["chat"])
    first = await world.contact(queue="occupied")
    second = await world.contact(queue="occupied")
    third = await world.contact(queue="occupied")
    agents = [(await world.offer_of(c))["agent"] for c in (first, second, third)]
    assert sorted(agents[:2]) == ["a", "b"]  # spread, not stacked
    assert agents[2] == agents[0]


async def test_round_robin_takes_turns(world):
    for aid in ("a", "b", "c"):
        await world.agent(aid, {"sales": 1}, channels=["chat"], capacity=1000)
    got = [(await world.offer_of(await world.contact(queue="rr")))["agent"] for _ in range(6)]
    assert got[:3] == got[3:] and sorted(got[:3]) == ["a", "b", "c"]


async def test_returning_customer_waits_for_their_last_agent_then_goes_to_anyone(world):
    await world.agent("ann", {"support": 1}, channels=["chat"], capacity=34)
    first = await world.contact(conversation="conv-1")
    await world.accept(first)
    await world.state.complete_contact(first, "ann")
    blocker = await world.contact()  # ann is busy again
    assert (await world.offer_of(blocker))["agent"] == "ann"
    await world.accept(blocker)
    await world.agent("bob", {"support": 1}, channels=["chat"])  # idle, would take anything
    back = await world.contact(conversation="conv-1")
    assert await world.contact_state(back) == "queued"  # held for ann
    await world.advance(10_000)
    await world.state.complete_contact(blocker, "ann")
    assert (await world.offer_of(back))["agent"] == "ann"


async def test_a_returning_customer_on_another_channel_is_offered_to_their_last_agent_first(world):
    await world.agent("ann", {"support": 1}, channels=["chat", "voice"])
    await world.agent("bob", {"support": 1}, channels=["chat", "voice"])
    chat = await world.contact(channel="chat", customer="+15550100")
    await world.accept(chat)
    await world.state.complete_contact(chat, (await world.state.get_contact(chat)).agent)
    last = (await world.state.get_contact(chat)).agent
    other = "bob" if last == "ann" else "ann"
    await world.state.set_agent_state(last, "not_ready", "break")
    call = await world.contact(channel="voice", customer="+15550100")  # no conversation in common
    assert await world.contact_state(call) == "queued"  # held for their last agent, though another is free
    await world.state.set_agent_state(last, "available")
    assert (await world.offer_of(call))["agent"] == last
    await world.state.decline_offer((await world.offer_of(call))["id"], last)
    assert (await world.offer_of(call))["agent"] == other


async def test_anonymous_callers_are_not_remembered(world):
    await world.agent("ann", {"support": 1}, channels=["voice"])
    await world.agent("bob", {"support": 1}, channels=["voice"])
    first = await world.contact(channel="voice", customer="anonymous")
    last = await world.accept(first)
    await world.state.complete_contact(first, last)
    await world.state.set_agent_state(last, "not_ready", "break")
    again = await world.contact(channel="voice", customer="anonymous")
    assert (await world.offer_of(again))["agent"] != last  # names nobody: anyone free, at once


async def test_preferred_agent_on_a_break_is_waited_for_only_the_preferred_time(world):
    await world.agent("ann", {"support": 1}, channels=["chat"])
    first = await world.contact(conversation="conv-9")
    await world.accept(first)
    await world.state.complete_contact(first, "ann")
    await world.state.set_agent_state("ann", "not_ready", "break")
    await world.agent("bob", {"support": 1}, channels=["chat"])
    again = await world.contact(conversation="conv-9")
    await world.advance(29_999)
    assert await world.contact_state(again) == "queued"
    await world.advance(1)
    assert (await world.offer_of(again))["agent"] == "bob"


async def test_preferred_agent_offline_means_anyone_at_once(world):
    await world.agent("ann", {"support": 1}, channels=["chat"])
    first = await world.contact(conversation="conv-2")
    await world.accept(first)
    await world.state.complete_contact(first, "ann")
    await world.state.set_agent_state("ann", "offline")
    await world.agent("bob", {"support": 1}, channels=["chat"])
    back = await world.contact(conversation="conv-2")
    assert (await world.offer_of(back))["agent"] == "bob"


async def test_preferred_agent_going_offline_releases_held_customers(world):
    await world.agent("ann", {"support": 1}, channels=["chat"], capacity=34)
    first = await world.contact(conversation="conv-3")
    await world.accept(first)
    await world.agent("bob", {"support": 1}, channels=["chat"], capacity=34)
    busy_bob = await world.contact()
    await world.accept(busy_bob)
    await world.state.complete_contact(first, "ann")
    await world.state.set_agent_state("ann", "not_ready")
    back = await world.contact(conversation="conv-3")
    assert await world.contact_state(back) == "queued"
    await world.state.set_agent_state("ann", "offline")
    await world.state.complete_contact(busy_bob, "bob")
    assert (await world.offer_of(back))["agent"] == "bob"


async def test_decline_goes_to_the_next_agent_and_never_back_while_others_can(world):
    for aid in ("a", "b"):
        await world.agent(aid, {"support": 1}, channels=["chat"], capacity=34)
    cid = await world.contact()
    o1 = await world.offer_of(cid)
    assert await world.state.decline_offer(o1["id"], o1["agent"], "not my area") == "ok"
    o2 = await world.offer_of(cid)
    assert o2["agent"] != o1["agent"]
    assert (await world.events("offer.declined", contact_id=cid))[0]["reason"] == "not my area"
    assert (await world.events("contact.requeued", contact_id=cid))[0]["reason"] == "offer_declined"
    await world.state.decline_offer(o2["id"], o2["agent"])
    # nobody else is eligible: after the re-offer pause it goes back to a decliner
    assert await world.contact_state(cid) == "queued"
    await world.advance(4_999)
    assert await world.contact_state(cid) == "queued"
    await world.advance(1)
    assert (await world.offer_of(cid))["agent"] in ("a", "b")


async def test_declined_contact_waits_for_a_new_agent_rather_than_the_decliner(world):
    await world.agent("a", {"support": 1}, channels=["chat"])
    cid = await world.contact()
    o = await world.offer_of(cid)
    await world.state.decline_offer(o["id"], "a")
    await world.agent("b", {"support": 1}, channels=["chat"])
    assert (await world.offer_of(cid))["agent"] == "b"


async def test_requeued_contact_keeps_its_original_place(world):
    await world.agent("a", {"support": 1}, channels=["chat"], capacity=34)
    first = await world.contact()
    await world.advance(5_000)
    second = await world.contact()
    before = (await world.state.get_contact(first)).raw
    o = await world.offer_of(first)
    await world.advance(20_000)  # timeout: a miss, first is re-queued
    after = (await world.state.get_contact(first)).raw
    assert after["score"] == before["score"] and after["enqueued_at"] == before["enqueued_at"]
    await world.agent("b", {"support": 1}, channels=["chat"], capacity=34)
    assert await world.offers_to("b") == [first]  # still ahead of second
    assert await world.contact_state(second) in ("offered", "queued")
    assert o["agent"] == "a"


async def test_offer_timeout_is_a_miss_and_consecutive_misses_pause_the_agent(world):
    await world.agent("sleepy", {"support": 1}, channels=["chat"], capacity=100)
    first = await world.contact()
    second = await world.contact()
    assert sorted(await world.offers_to("sleepy")) == sorted([first, second])
    await world.advance(20_000)
    # both offers time out in one tick: two misses in a row pause the agent
    assert await world.agent_field("sleepy", "state") == "not_ready"
    assert await world.agent_field("sleepy", "reason") == "missed_offers"
    assert {e["contact_id"] for e in await world.events("offer.expired")} == {first, second}
    assert await world.contact_state(first) == "queued" and await world.contact_state(second) == "queued"
    assert (await world.events("agent.state_changed", agent_id="sleepy"))[-1] == {
        "agent_id": "sleepy", "state": "not_ready", "reason": "missed_offers"}


async def test_an_answer_breaks_a_run_of_misses(world):
    await world.agent("a", {"support": 1}, channels=["chat"], capacity=34)
    first = await world.contact()
    await world.advance(20_000)  # miss 1; only a can take it: re-offered after the pause
    await world.advance(5_000)
    assert (await world.offer_of(first))["agent"] == "a"
    await world.accept(first)
    await world.state.complete_contact(first, "a")
    second = await world.contact()
    await world.advance(20_000)  # miss 1 again, not 2
    assert await world.agent_field("a", "state") == "available"
    assert second


async def test_capacity_units_and_voice_blocking(world):
    await world.agent("a", {"support": 1}, capacity=100)
    chats = [await world.contact() for _ in range(3)]
    states = [await world.contact_state(c) for c in chats]
    assert states == ["offered", "offered", "queued"]  # 34 + 34 fit, a third would be 102
    email = await world.contact(channel="email")
    assert await world.contact_state(email) == "offered"  # 68 + 20 = 88
    assert await world.agent_field("a", "load") == "88"
    voice = await world.contact(channel="voice")
    assert await world.contact_state(voice) == "queued"

    await world.agent("v", {"support": 1}, channels=["voice"], capacity=100)
    assert (await world.offer_of(voice))["agent"] == "v"
    assert await world.agent_field("v", "load") == "100"
    await world.accept(voice)
    assert await world.contact_state(chats[2]) == "queued"
    await world.accept(chats[0])
    await world.state.complete_contact(chats[0], "a")
    assert (await world.offer_of(chats[2]))["agent"] == "a"  # room again: 34 + 34 + 20


async def test_voice_blocks_chat_even_with_spare_capacity(world):
    await world.agent("big", {"support": 1}, capacity=300)
    call = await world.contact(channel="voice")
    await world.accept(call)
    chat = await world.contact()
    assert await world.contact_state(chat) == "queued"
    await world.state.complete_contact(call, "big")
    await world.advance(5_000)  # voice wrap-up
    assert (await world.offer_of(chat))["agent"] == "big"


async def test_wrapup_after_voice_then_available(world):
    await world.agent("a", {"support": 1}, capacity=100)
    call = await world.contact(channel="voice")
    await world.accept(call)
    waiting = await world.contact()
    await world.state.complete_contact(call, "a")
    assert await world.agent_field("a", "state") == "wrapup"
    assert await world.contact_state(waiting) == "queued"
    await world.advance(4_999)
    assert await world.agent_field("a", "state") == "wrapup"
    await world.advance(1)
    assert await world.agent_field("a", "state") == "available"
    assert (await world.offer_of(waiting))["agent"] == "a"
    states = [e["state"] for e in await world.events("agent.state_changed", agent_id="a")]
    assert states[-2:] == ["wrapup", "available"]


async def test_chat_has_no_wrapup(world):
    await world.agent("a", {"support": 1}, channels=["chat"], capacity=34)
    chat = await world.contact()
    await world.accept(chat)
    nxt = await world.contact()
    await world.state.complete_contact(chat, "a")
    assert await world.agent_field("a", "state") == "available"
    assert (await world.offer_of(nxt))["agent"] == "a"


async def test_silent_agent_goes_offline_and_their_offer_is_requeued(world):
    world.state.presence_timeout_ms = 15_000
    await world.agent("ghost", {"support": 1}, channels=["chat"])
    cid = await world.contact()
    assert (await world.offer_of(cid))["agent"] == "ghost"
    await world.advance(10_000)
    assert await world.state.heartbeat("ghost", 15_000) == "ok"  # alive: deadline moves
    await world.advance(14_999)
    assert await world.agent_field("ghost", "state") == "available"
    await world.agent("live", {"support": 1}, channels=["chat"], login=False)
    await world.state.set_agent_state("live", "available")
    await world.advance(1)
    assert await world.agent_field("ghost", "state") == "offline"
    assert await world.agent_field("ghost", "reason") == "presence_timeout"
    assert (await world.offer_of(cid))["agent"] == "live"


async def test_logout_disarms_presence(world):
    world.state.presence_timeout_ms = 15_000
    await world.agent("a", {"support": 1}, channels=["chat"])
    assert await world.redis.zscore(keys.TIMERS, "presence:a") == world.clock.now + 15_000
    await world.state.set_agent_state("a", "offline")
    assert await world.redis.zscore(keys.TIMERS, "presence:a") is None
