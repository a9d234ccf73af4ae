"""Outbound campaigns in the router: progressive (a target is started only as a contact
offered to a free agent, within the campaign's share of the queue's agents, never ahead
of inbound contacts), retried per outcome up to max_attempts, the do-not-contact list
honoured, hours kept, email paced. Real Redis, injected clock."""

import pytest

from services.router.domain.campaigns import Campaign
from services.router.domain.commands import CreateCampaign, PaceCampaigns, SetCampaignState

pytestmark = pytest.mark.routing


def voice_campaign(n: int = 6, **kw) -> Campaign:
    targets = [{"id": f"t{i}", "number": f"+1555010{i}", "name": f"Cust {i}"} for i in range(n)]
    return Campaign.model_validate({"id": "renewals", "channel": "voice", "queue": "support",
                                    "retry_s": {"busy": 60, "no_answer": 120}, "max_attempts": 2,
                                    "agent_share": 0.5, "targets": targets, **kw})


async def agents(world, n: int, available: int) -> list[str]:
    ids = [await world.agent(f"a{i}", {"support": 1}, channels=["voice"], login=i < available) for i in range(n)]
    for aid in ids[available:]:
        assert await world.state.set_agent_state(aid, "not_ready") == "ok"  # staffed, not free
    return ids


async def campaign_contacts(world, state: str | None = None) -> list[str]:
    queued = [e["contact_id"] for e in await world.events("contact.queued") if e["tier"] == "campaign"]
    return [c for c in queued if state is None or await world.contact_state(c) == state]


async def progress(world, cid: str = "renewals") -> dict:
    return await world.state.campaign(cid)


async def test_calls_start_only_for_free_agents_within_the_share(world):
    await agents(world, 4, available=2)
    await world.bus.handle(CreateCampaign(voice_campaign()))
    assert await world.bus.handle(PaceCampaigns()) == 2  # two agents free, share 0.5 of 4 staffed
    offered = await campaign_contacts(world, "offered")
    assert len(offered) == 2 and {(await world.offer_of(c))["agent"] for c in offered} == {"a0", "a1"}
    assert await world.bus.handle(PaceCampaigns()) == 0  # nobody free
    for aid in ("a2", "a3"):
        assert await world.state.set_agent_state(aid, "available") == "ok"
    assert await world.bus.handle(PaceCampaigns()) == 0  # two agents free, but the share is used
    p = await progress(world)
    assert (p["inflight"], p["attempts"], p["waiting"]) == ("2", "2", 4)
    assigned = await world.accept(offered[0])
    event = (await world.events("contact.assigned", contact_id=offered[0]))[0]
    assert event["callback"] == {"number": "+15550100", "attempts": 0, "campaign": "renewals"}
    assert assigned == "a0"


async def test_inbound_contacts_go_first(world):
    await agents(world, 2, available=1)
    busy = await world.contact(channel="voice")  # a0 takes an inbound call
    await world.accept(busy)
    waiting = await world.contact(channel="voice")  # another waits
    await world.bus.handle(CreateCampaign(voice_campaign(agent_share=1.0)))
    assert await world.bus.handle(PaceCampaigns()) == 0  # nobody free; and a contact waits
    assert await world.state.set_agent_state("a1", "available") == "ok"
    assert (await world.offer_of(waiting))["agent"] == "a1"  # the inbound one, not a campaign call
    assert await world.bus.handle(PaceCampaigns()) == 0
    assert await campaign_contacts(world) == []


async def test_outcomes_are_retried_per_the_rules_then_exhausted(world):
    await agents(world, 1, available=1)
    await world.bus.handle(CreateCampaign(voice_campaign(n=2, agent_share=1.0)))

    async def attempt(outcome: str | None) -> str:
        assert await world.bus.handle(PaceCampaigns()) == 1
        cid = (await campaign_contacts(world, "offered"))[0]
        await world.accept(cid)
        if outcome is None:
            assert await world.state.complete_contact(cid, "a0", "sold") == "ok"
        else:  # the voice gateway reports the call nobody took
            spec = {"offset_ms": None, "tier": None, "priority": None, "escalate": False, "requeue_reason": None,
                    "metadata": {"callback_last_outcome": outcome}, "retry_in_ms": 0, "close_reason": outcome}
            assert await world.state.update_contact(world.state.dedupe_key("tests", f"u-{cid}"), cid, spec) == "closed"
        await world.advance(5_000)  # the voice wrap-up
        return cid

    first = await attempt("busy")  # t0, attempt 0
    ended = (await world.events("campaign.attempt_ended", contact_id=first))[0]
    assert (ended["target_id"], ended["outcome"], ended["attempt"]) == ("t0", "busy", 0)
    assert ended["retry_at_ms"] == world.clock.now - 5_000 + 60_000
    second = await attempt(None)  # t1 is next: t0 waits for its retry
    assert second.startswith("cmp-renewals-t1-")
    assert await world.bus.handle(PaceCampaigns()) == 0  # t0 not due yet
    await world.advance(60_000)
    third = await attempt("no_answer")  # t0 again: its second and last attempt
    assert third == "cmp-renewals-t0-1"
    last = (await world.events("campaign.attempt_ended", contact_id=third))[0]
    assert last["retry_at_ms"] is None
    p = await progress(world)
    assert p["state"] == "finished" and (p["done"], p["exhausted"], p["n_completed"]) == ("2", "1", "1")
    assert (p["n_busy"], p["n_no_answer"]) == ("1", "1")
    assert not await world.redis.sismember(world.state.constant("campaigns"), "renewals")
    assert await world.redis.ttl(world.state.key("campaign_targets", "renewals")) > 0  # expires now


async def test_do_not_contact_targets_are_never_called(world):
    await agents(world, 1, available=1)
    await world.state.do_not_contact(["+15550100"])
    await world.bus.handle(CreateCampaign(voice_campaign(n=2, agent_share=1.0)))
    assert await world.bus.handle(PaceCampaigns()) == 2  # t0 passed over, t1 called
    skipped = (await world.events("campaign.attempt_ended", target_id="t0"))[0]
    assert skipped["outcome"] == "do_not_contact" and skipped["contact_id"] is None
    assert [c.split("-")[2] for c in await campaign_contacts(world)] == ["t1"]


async def test_hours_and_pause_hold_it(world):
    await agents(world, 1, available=1)
    await world.bus.handle(CreateCampaign(voice_campaign(n=2, agent_share=1.0, schedule="office")))
    world.clock.now += 6 * 3_600_000  # Monday 19:46 UTC: the office is closed
    assert await world.bus.handle(PaceCampaigns()) == 0
    world.clock.now += 15 * 3_600_000  # Tuesday 10:46: open (a holiday, open 10-12)
    assert await world.bus.handle(PaceCampaigns()) == 1
    await world.bus.handle(SetCampaignState("renewals", "paused"))
    assert not await world.redis.sismember(world.state.constant("campaigns"), "renewals")


async def test_email_campaigns_write_at_their_pace(world):
    targets = [{"id": f"e{i}", "email": f"c{i}@example.com", "name": f"Cust {i}"} for i in range(3)]
    campaign = Campaign.model_validate({"id": "news", "channel": "email", "queue": "support", "send_per_s": 1,
                                        "subject": "Your renewal", "body": "Hello {name}, it is time.",
                                        "targets": targets})
    await world.bus.handle(CreateCampaign(campaign))
    assert await world.bus.handle(PaceCampaigns()) == 1
    await world.advance(999)
    assert await world.bus.handle(PaceCampaigns()) == 0
    await world.advance(1)
    assert await world.bus.handle(PaceCampaigns()) == 1
    sent = await world.events("campaign.message_requested")
    assert [(m["to"], m["body"]) for m in sent] == [("c0@example.com", "Hello Cust 0, it is time."),
                                                    ("c1@example.com", "Hello Cust 1, it is time.")]
