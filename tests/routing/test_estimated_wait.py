"""Estimated wait: each contact.queued says the contact's place in the real priority
order (a premium contact enters ahead of basic ones) and the wait that place means with
the agents staffed for it and the agent time a contact recently took (offer to wrap-up)."""

import pytest

pytestmark = pytest.mark.routing


async def busy_agents(world, n: int) -> None:
    """`n` voice agents, each busy on a call after one that took 60 s of their time: 10 s
    from the offer to the accept, 45 s handled, the 5 s voice wrap-up."""
    for i in range(n):
        await world.agent(f"a{i}", {"support": 1}, channels=["voice"])
        cid = await world.contact(channel="voice")
        world.clock.now += 10_000  # the offer holds the agent before they accept it
        await world.accept(cid)
        world.clock.now += 45_000
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
    assert (q["position"], q["estimated_wait_s"]) == (1, 30.0)  # 60 s of agent time over 2 agents

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
    await busy_agents(world, 2)  # 2 agents, 60 s per call: 30 s per place
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


async def on_a_planned_break(world, break_s: float) -> None:
    """The policy plans `break` as `break_s` long; `meeting` stays open-ended."""
    world.policy = world.policy.model_copy(update={"planned_breaks_s": {"break": break_s}})
    await world.state.install_policy(world.policy)


async def test_an_agent_on_a_planned_break_counts_from_when_it_is_due_to_end(world):
    await on_a_planned_break(world, 30)
    await busy_agents(world, 2)  # 60 s per call
    assert await world.state.set_agent_state("a1", "not_ready", "break") == "ok"  # back in 30 s
    cid = await world.contact(channel="voice", tier="basic")
    # One agent works alone for 30 s (half a contact), then both: the other half of the
    # 60 s of handling takes 15 s more. 45 s, not the 60 s of one agent.
    assert (await queued(world, cid))["estimated_wait_s"] == 45.0

    world.clock.now += 20_000  # 10 s of the break left
    later = await world.contact(channel="voice", tier="basic")
    # 120 s of handling: 10 s of one agent, then 110 s over two agents (55 s): 65 s
    assert (await queued(world, later))["estimated_wait_s"] == 65.0


async def test_an_overdue_or_open_ended_break_is_not_counted(world):
    await on_a_planned_break(world, 30)
    await busy_agents(world, 2)
    assert await world.state.set_agent_state("a0", "not_ready", "meeting") == "ok"  # open-ended
    assert await world.state.set_agent_state("a1", "not_ready", "break") == "ok"
    cid = await world.contact(channel="voice", tier="basic")
    # Nobody serving now; a1 is due back in 30 s and then takes 60 s
    assert (await queued(world, cid))["estimated_wait_s"] == 90.0

    world.clock.now += 31_000  # a1 is late: no longer counted, and nobody else serves
    later = await world.contact(channel="voice", tier="basic")
    assert (await queued(world, later))["estimated_wait_s"] is None


async def test_the_break_index_follows_the_agent(world):
    await on_a_planned_break(world, 30)
    await busy_agents(world, 1)
    returning = world.state.key("returning", "support", 0, "voice")
    assert await world.state.set_agent_state("a0", "not_ready", "break") == "ok"
    assert await world.state.redis.zscore(returning, "a0") == world.clock.now + 30_000
    assert await world.state.set_agent_state("a0", "available") == "ok"
    assert await world.state.redis.zscore(returning, "a0") is None  # back: serving again
    assert await world.state.set_agent_state("a0", "not_ready", "break") == "ok"
    assert await world.state.set_agent_state("a0", "offline") == "ok"
    assert await world.state.redis.zscore(returning, "a0") is None  # signed out: nowhere
