"""Estimated wait: each contact.queued says the contact's place in the real priority
order (a premium contact enters ahead of basic ones) and the wait that place means with
the agents staffed for it and the queue's recent handle time."""

import pytest

pytestmark = pytest.mark.routing


async def busy_agents(world, n: int) -> None:
    """`n` voice agents, each busy on a call whose handling took 60 s (the recent handle time)."""
    for i in range(n):
        await world.agent(f"a{i}", {"support": 1}, channels=["voice"])
        cid = await world.contact(channel="voice")
        await world.accept(cid)
        world.clock.now += 60_000
        assert await world.state.complete_contact(cid, f"a{i}", "resolved") == "ok"
        await world.advance(5_000)  # the voice wrap-up
        busy = await world.contact(channel="voice")
        await world.accept(busy)


async def queued(world, cid: str) -> dict:
    return (await world.events("contact.queued", contact_id=cid))[0]


async def test_the_estimate_follows_the_real_order_and_the_staffing(world):
    await busy_agents(world, 2)
    first = await world.contact(channel="voice", tier="basic")
    q = await queued(world, first)
    assert (q["position"], q["estimated_wait_s"]) == (1, 30.0)  # 60 s of handling over 2 agents

    premium = await world.contact(channel="voice", tier="premium")
    q = await queued(world, premium)
    assert q["position"] == 1  # ahead of the basic contact that arrived before it

    later = await world.contact(channel="voice", tier="basic")
    q = await queued(world, later)
    assert (q["position"], q["estimated_wait_s"]) == (3, 90.0)


async def test_nobody_staffed_means_no_estimate(world):
    cid = await world.contact(channel="voice")
    q = await queued(world, cid)
    assert q["position"] == 1 and q["estimated_wait_s"] is None


async def test_agents_on_a_break_are_not_counted_as_serving(world):
    await busy_agents(world, 2)
    assert await world.state.set_agent_state("a1", "not_ready") == "ok"  # a break after this call
    cid = await world.contact(channel="voice", tier="basic")
    q = await queued(world, cid)
    assert (q["position"], q["estimated_wait_s"]) == (1, 60.0)  # one agent serving, not two
    assert await world.state.set_agent_state("a1", "available") == "ok"
    later = await world.contact(channel="voice", tier="basic")
    assert (await queued(world, later))["estimated_wait_s"] == 60.0  # 2 ahead of it, 2 agents


async def test_later_arrivals_of_a_higher_tier_are_counted_as_overtaking(world):
    await busy_agents(world, 2)  # 2 agents, 60 s handle time: 30 s per place
    for _ in range(3):  # premium callers, one a minute (a 180 s lead)
        await world.contact(channel="voice", tier="premium")
        world.clock.now += 60_000
    basic = await world.contact(channel="voice", tier="basic")
    q = await queued(world, basic)
    # 4 places (120 s), and the premium callers arriving in the next 180 s overtake it:
    # 3 more places (90 s). Premium callers are not overtaken by anyone.
    assert (q["position"], q["estimated_wait_s"]) == (4, 210.0)
    premium = await world.contact(channel="voice", tier="premium")
    assert (await queued(world, premium))["estimated_wait_s"] == 120.0  # 3 premium ahead of it, then it
