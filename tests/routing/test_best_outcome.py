"""The best_outcome strategy (queue `learn`: prior CSAT 4.0 worth 3 surveys, a contact
waits at most 10 s for an agent expected to do 0.5 CSAT points better): it learns each
agent's CSAT per intent from surveys, still tries agents it knows little about, and
never holds a contact back for a better agent beyond the guard."""

from collections import Counter

import pytest

from services.router.domain.commands import RouteEvent
from shared.cloudevents import new_event
from shared.events import SurveySubmitted, event_type

pytestmark = pytest.mark.routing

CHAT_ONLY = 34  # an agent of capacity 34 takes one chat at a time


async def agent(world, aid: str, login: bool = True) -> str:
    return await world.agent(aid, {"learn": 1}, channels=["chat"], capacity=CHAT_ONLY, login=login)


async def survey(world, cid: str, score: int) -> str:
    env = new_event(event_type("survey.submitted"), SurveySubmitted(contact_id=cid, score=score),
                    source="tests", key=cid)
    return await world.bus.handle(RouteEvent(env))


async def served(world, aid: str, scores: list[int], intent: str = "billing") -> None:
    """`aid` alone is available and serves one contact per score, each surveyed with it."""
    for score in scores:
        cid = await world.contact(channel="chat", queue="learn", intent=intent)
        assert await world.accept(cid) == aid
        world.clock.now += 60_000
        assert await world.state.complete_contact(cid, aid, "resolved") == "ok"
        assert await survey(world, cid, score) == "noted"


async def set_state(world, aid: str, state: str) -> None:
    assert await world.state.set_agent_state(aid, state) == "ok"


async def test_surveys_teach_it_per_agent_and_intent_once_each(world):
    await agent(world, "ann")
    await served(world, "ann", [5, 4, 5])
    await served(world, "ann", [2], intent="sales")
    learnt = await world.state.outcomes("ann")
    assert learnt["billing|chat"]["surveys"] == 3 and learnt["billing|chat"]["csat"] == 4.67
    assert learnt["billing|chat"]["completed"] == 3 and learnt["billing|chat"]["handle_ms"] == 60_000
    assert learnt["sales|chat"]["csat"] == 2.0
    last = (await world.events("contact.completed", agent_id="ann"))[-1]["contact_id"]
    assert await survey(world, last, 1) == "duplicate"  # one answer per contact, however often it comes
    assert await survey(world, "c-nobody", 5) == "unknown"


async def test_it_prefers_who_served_best_and_still_tries_the_new_agent(world):
    for aid in ("expert", "poor", "novice"):
        await agent(world, aid, login=False)
    for aid, scores in (("expert", [5, 5, 4, 5] * 5), ("poor", [2, 1, 2, 3] * 5)):
        await set_state(world, aid, "available")
        await served(world, aid, scores)
        await set_state(world, aid, "not_ready")
    for aid in ("expert", "poor", "novice"):
        await set_state(world, aid, "available")
    picked = Counter()
    for _ in range(120):  # all three free for every decision
        cid = await world.contact(channel="chat", queue="learn", intent="billing")
        picked[(await world.offer_of(cid))["agent"]] += 1
        await world.state.end_contact(world.state.dedupe_key("tests", f"end-{cid}"), cid, "abandoned")
    assert picked["expert"] > picked["novice"] > 0, picked  # learnt, yet still exploring
    assert picked["novice"] >= 3, picked  # ~15 % expected: the prior is wide after no surveys
    assert picked["poor"] <= 3, picked  # known to do badly: (almost) never drawn


async def test_a_contact_waits_for_the_better_busy_agent_then_not_beyond_the_guard(world):
    for aid in ("expert", "poor", "novice"):
        await agent(world, aid, login=False)
    for aid, scores in (("expert", [5] * 10), ("poor", [2] * 10)):
        await set_state(world, aid, "available")
        await served(world, aid, scores)
        await set_state(world, aid, "not_ready")
    for aid in ("poor", "expert"):  # both busy on a contact of their own (the expert last: none waits)
        await set_state(world, aid, "available")
        busy = await world.contact(channel="chat", queue="learn", intent="billing")
        assert await world.accept(busy) == aid
    await set_state(world, "novice", "available")

    # Held for the expert while the novice, free, is expected to do worse by the margin.
    held = await world.contact(channel="chat", queue="learn", intent="billing")
    assert await world.contact_state(held) == "queued"
    await world.advance(2_000)
    poor_call = (await world.state.agent_contacts("poor"))[0]
    assert await world.state.complete_contact(poor_call, "poor", "resolved") == "ok"
    assert await world.contact_state(held) == "queued"  # a freed agent below the bar leaves it
    assert await world.offers_to("poor") == []
    await world.advance(7_999)
    assert await world.contact_state(held) == "queued"
    # The guard: 10 s after it entered the queue it goes to whoever is free.
    await world.advance(1)
    assert await world.contact_state(held) == "offered"
    assert (await world.offer_of(held))["agent"] in {"novice", "poor"}

    # The expert freeing inside the guard takes the next held contact at once.
    await world.accept(held)
    second = await world.contact(channel="chat", queue="learn", intent="billing")
    assert await world.contact_state(second) == "queued"
    await world.advance(3_000)
    expert_call = (await world.state.agent_contacts("expert"))[0]
    assert await world.state.complete_contact(expert_call, "expert", "resolved") == "ok"
    assert (await world.offer_of(second))["agent"] == "expert"


async def test_no_hold_without_a_guard(world):
    """max_hold_s 0: service level first, a free agent always takes the contact."""
    learn = world.policy.queues["learn"]
    policy = type(world.policy).model_validate({
        **world.policy.model_dump(), "queues": {**world.policy.model_dump()["queues"], "learn": {
            **learn.model_dump(), "learning": {**learn.learning.model_dump(), "max_hold_s": 0}}}})
    await world.state.install_policy(policy)
    world.policy = policy
    for aid in ("expert", "novice"):
        await agent(world, aid, login=False)
    await set_state(world, "expert", "available")
    await served(world, "expert", [5] * 10)
    busy = await world.contact(channel="chat", queue="learn", intent="billing")
    assert await world.accept(busy) == "expert"
    await set_state(world, "novice", "available")
    cid = await world.contact(channel="chat", queue="learn", intent="billing")
    assert (await world.offer_of(cid))["agent"] == "novice"
