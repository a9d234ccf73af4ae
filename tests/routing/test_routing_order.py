"""Ordering: steps with timed relaxation, tiers with aging, tier-neutral intents, FIFO,
and a freed agent pulling the best contact across every queue it serves."""

import pytest

from services.router.adapters.keys import key

pytestmark = pytest.mark.routing


async def test_contact_relaxes_step_by_step_and_each_expiry_is_escalated(world):
    await world.agent("junior", {"tech": 2}, channels=["chat"])
    cid = await world.contact(queue="tech")
    assert await world.contact_state(cid) == "queued"  # step 0 wants level 4
    await world.advance(29_999)
    assert await world.events("contact.escalated") == []
    await world.advance(1)
    assert await world.events("contact.escalated", contact_id=cid) == [{"contact_id": cid, "queue": "tech", "step": 1}]
    assert (await world.offer_of(cid))["agent"] == "junior"


async def test_expert_takes_step_zero_at_once_and_a_novice_only_at_the_last_step(world):
    await world.agent("novice", {"tech": 1}, channels=["chat"])
    first = await world.contact(queue="tech")
    await world.advance(30_000)
    assert await world.contact_state(first) == "queued"  # step 1 wants level 2
    await world.advance(30_000)
    assert [e["step"] for e in await world.events("contact.escalated", contact_id=first)] == [1, 2]
    assert (await world.offer_of(first))["agent"] == "novice"
    await world.agent("expert", {"tech": 5}, channels=["chat"])
    second = await world.contact(queue="tech")
    assert (await world.offer_of(second))["agent"] == "expert"
    assert await world.events("contact.escalated", contact_id=second) == []


async def test_step_with_nobody_eligible_is_skipped_but_a_busy_expert_is_waited_for(world):
    await world.agent("generalist", {"vip": 1}, channels=["chat"], capacity=34)
    skipped = await world.contact(queue="vip")
    assert (await world.offer_of(skipped))["agent"] == "generalist"  # no level-5 agent logged in
    assert (await world.state.get_contact(skipped)).raw["step"] == "1"
    await world.accept(skipped)  # generalist is now full

    await world.agent("star", {"vip": 5}, channels=["chat"], login=False)
    await world.state.set_agent_state("star", "not_ready", "lunch")  # logged in: eligible, busy
    await world.agent("generalist2", {"vip": 1}, channels=["chat"])
    held = await world.contact(queue="vip")
    assert await world.contact_state(held) == "queued"
    assert (await world.state.get_contact(held)).raw["step"] == "0"
    await world.advance(60_000)
    assert (await world.offer_of(held))["agent"] == "generalist2"


async def test_offered_contact_whose_step_expires_comes_back_at_the_new_step(world):
    await world.agent("expert", {"tech": 4}, channels=["chat"])
    await world.agent("mid", {"tech": 2}, channels=["chat"], login=False)
    cid = await world.contact(queue="tech")
    offer = await world.offer_of(cid)
    await world.advance(20_000)  # expert misses the offer: back to step 0, nobody else
    await world.state.set_agent_state("expert", "not_ready")
    await world.state.set_agent_state("mid", "available")
    assert await world.contact_state(cid) == "queued"
    await world.advance(10_000)  # step 0 expires at 30 s: step 1, mid qualifies
    assert (await world.offer_of(cid))["agent"] == "mid"
    assert offer["agent"] == "expert"


async def test_higher_tier_goes_first_but_aging_bounds_the_head_start(world):
    old_basic = await world.contact(tier="basic")
    await world.advance(181_000)  # more than premium's 180 s head start
    premium_late = await world.contact(tier="premium")
    await world.advance(1_000)
    basic_new = await world.contact(tier="basic")
    await world.advance(1_000)
    enhanced = await world.contact(tier="enhanced")
    await world.agent("a", {"support": 1}, channels=["chat"], capacity=34)
    order = []
    for _ in range(4):
        (cid,) = await world.offers_to("a")
        order.append(cid)
        await world.accept(cid)
        assert await world.state.complete_contact(cid, "a") == "ok"
    # old_basic waited 181 s before premium came: it is never overtaken
    assert order == [old_basic, premium_late, enhanced, basic_new]


async def test_tier_neutral_intent_is_ordered_by_wait_alone(world):
    basic = await world.contact(queue=None, intent="complaint", tier="basic")
    await world.advance(1)
    premium = await world.contact(queue=None, intent="complaint", tier="premium")
    c = await world.state.get_contact(premium)
    assert c.queue == "complaints" and c.tier == "premium"
    await world.agent("carer", {"care": 3}, channels=["chat"], capacity=34)
    assert await world.offers_to("carer") == [basic]


async def test_equal_priority_is_fifo_even_within_one_millisecond(world):
    ids = [await world.contact(cid=f"z{9 - i}") for i in range(8)]  # names sort the other way
    await world.agent("a", {"support": 1}, channels=["chat"], capacity=34)
    order = []
    for _ in ids:
        (cid,) = await world.offers_to("a")
        order.append(cid)
        await world.accept(cid)
        await world.state.complete_contact(cid, "a")
    assert order == ids


async def test_reprioritisation_takes_effect_at_once(world):
    first = await world.contact()
    second = await world.contact()
    await world.redis.zadd(key("wait", "support", 0, "chat"), {second: 0})  # what a re-score writes
    await world.agent("a", {"support": 1}, channels=["chat"], capacity=34)
    assert await world.offers_to("a") == [second]
    assert await world.contact_state(first) == "queued"


async def test_freed_agent_takes_the_oldest_contact_across_all_its_queues(world):
    await world.agent("both", {"support": 1, "tech": 5}, channels=["chat"], capacity=34)
    busy = await world.contact(queue="support")
    await world.accept(busy)
    older_tech = await world.contact(queue="tech")
    await world.advance(1_000)
    newer_support = await world.contact(queue="support")
    await world.advance(1_000)
    await world.state.complete_contact(busy, "both")
    assert await world.offers_to("both") == [older_tech]
    assert await world.contact_state(newer_support) == "queued"


async def test_premium_in_another_queue_wins_the_freed_agent(world):
    await world.agent("both", {"support": 1, "tech": 5}, channels=["chat"], capacity=34)
    busy = await world.contact(queue="support")
    await world.accept(busy)
    basic_tech = await world.contact(queue="tech", tier="basic")
    await world.advance(1_000)
    premium_support = await world.contact(queue="support", tier="premium")
    await world.state.complete_contact(busy, "both")
    assert await world.offers_to("both") == [premium_support]
    assert await world.contact_state(basic_tech) == "queued"
