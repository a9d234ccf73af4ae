"""Queue caps and max wait (overflow queue or callback), the policy in Redis with a
version (validated, reloadable, every replica picks it up), and O(log n) decisions."""

import re

import pytest
from pydantic import ValidationError

from services.router.adapters.keys import key
from services.router.domain.commands import ApplyPolicy
from services.router.handlers.policy import PolicyConflict
from shared.policy import Policy
from tests.routing.world import routing_policy

pytestmark = pytest.mark.routing


async def test_full_queue_overflows_to_its_overflow_queue_keeping_its_place(world):
    kept = await world.contact(queue="small")
    assert await world.contact_state(kept) == "queued"
    await world.advance(1_000)
    over = await world.contact(queue="small", tier="premium")  # cap is 1 waiting
    c = await world.state.get_contact(over)
    assert c.queue == "support" and c.state == "queued"
    assert (await world.events("contact.requeued", contact_id=over))[0] == {
        "contact_id": over, "queue": "support", "reason": "overflow_queue_full"}
    later = await world.contact(queue="support")
    await world.agent("s", {"support": 1}, channels=["chat"], capacity=34)
    assert await world.offers_to("s") == [over]  # premium lead and arrival kept
    assert await world.contact_state(later) == "queued"
    assert (await world.state.get_contact(kept)).queue == "small"


async def test_max_wait_overflows_to_a_callback(world):
    cid = await world.contact(queue="impatient", channel="voice")
    await world.advance(59_999)
    assert await world.contact_state(cid) == "queued"
    await world.advance(1)
    assert await world.contact_state(cid) == "overflowed"
    assert await world.events("contact.overflowed", contact_id=cid) == [{
        "contact_id": cid, "queue": "impatient", "channel": "voice", "reason": "max_wait",
        "action": "callback", "wait_ms": 60_000}]
    await world.agent("b", {"billing": 3}, channels=["voice"])
    assert await world.offers_to("b") == []  # a callback is out of the queue


async def test_max_wait_during_an_offer_overflows_only_if_the_offer_fails(world):
    await world.agent("b", {"billing": 3}, channels=["voice"], login=False)
    cid = await world.contact(queue="impatient", channel="voice")
    await world.advance(45_000)
    await world.state.set_agent_state("b", "available")
    assert (await world.offer_of(cid))["agent"] == "b"
    await world.advance(15_000)  # past its max wait while offered: the offer plays out
    assert await world.contact_state(cid) == "offered"
    await world.advance(5_000)  # the offer times out: it overflows instead of waiting again
    assert await world.contact_state(cid) == "overflowed"
    assert (await world.events("contact.overflowed", contact_id=cid))[0]["reason"] == "max_wait"


def test_policy_is_validated_at_load():
    raw = routing_policy().model_dump()
    bad_overflow = {**raw, "queues": {**raw["queues"], "small": {**raw["queues"]["small"], "overflow_queue": None}}}
    with pytest.raises(ValidationError, match="exactly one of overflow_queue"):
        Policy.model_validate(bad_overflow)
    loop = {**raw, "queues": {**raw["queues"],
                              "support": {**raw["queues"]["support"], "max_waiting": 5, "overflow_queue": "tech"},
                              "tech": {**raw["queues"]["tech"], "max_wait_s": 9, "overflow_queue": "support"}}}
    with pytest.raises(ValidationError, match="loop"):
        Policy.model_validate(loop)
    no_voice = {**raw, "queues": {**raw["queues"],
                                  "impatient": {**raw["queues"]["impatient"], "overflow_action": None,
                                                "overflow_queue": "vip"}}}
    with pytest.raises(ValidationError, match="does not serve"):
        Policy.model_validate(no_voice)
    open_step = {**raw, "queues": {**raw["queues"], "tech": {**raw["queues"]["tech"], "steps": [
        {"skills": [{"skill": "tech", "min_level": 4}]}, {"skills": [{"skill": "tech"}]}]}}}
    with pytest.raises(ValidationError, match="timeout_s"):
        Policy.model_validate(open_step)


async def test_policy_change_is_versioned_and_moves_agents_to_the_new_pools(world):
    await world.agent("a", {"tech": 3}, channels=["chat"])
    cid = await world.contact(queue="tech")
    assert await world.contact_state(cid) == "queued"  # step 0 wants 4
    v1 = await world.state.policy_version()
    raw = world.policy.model_dump()
    raw["queues"]["tech"]["steps"][0]["skills"][0]["min_level"] = 3
    new = Policy.model_validate(raw)
    v2 = await world.bus.handle(ApplyPolicy(new))
    assert v2 == v1 + 1
    version, active = await world.state.active_policy()
    assert version == v2 and active == new
    assert (await world.offer_of(cid))["agent"] == "a"  # requalified: a meets step 0 now


async def test_policy_file_installs_once_and_api_changes_survive_restarts(world):
    base = await world.state.policy_version()
    assert await world.state.install_policy(world.policy, source="file-hash-1") == base + 1
    assert await world.state.install_policy(world.policy, source="file-hash-1") == 0  # replica restart
    raw = world.policy.model_dump()
    raw["offer_timeout_s"] = 45
    assert await world.state.install_policy(Policy.model_validate(raw)) == base + 2  # API
    assert await world.state.install_policy(world.policy, source="file-hash-1") == 0
    assert (await world.state.active_policy())[1].offer_timeout_s == 45
    assert await world.state.install_policy(world.policy, source="file-hash-2") == base + 3  # file edited


async def test_policy_that_strands_waiting_contacts_is_refused(world):
    cid = await world.contact(queue="tech")
    raw = world.policy.model_dump()
    del raw["queues"]["tech"]
    before = await world.state.policy_version()
    with pytest.raises(PolicyConflict, match=re.escape(key("wait", "tech", 0, "chat"))):
        await world.bus.handle(ApplyPolicy(Policy.model_validate(raw)))
    assert await world.state.policy_version() == before
    assert await world.contact_state(cid) == "queued"


async def _commands(redis) -> int:
    stats = await redis.info("commandstats")
    return sum(v["calls"] for k, v in stats.items() if not k.startswith("cmdstat_info"))


async def _decision_cost(world, agents: int) -> int:
    """Redis commands run by one arrival decision with `agents` available agents and as
    many contacts waiting in another queue."""
    for i in range(agents):
        await world.agent(f"a{i}", {"support": 1}, channels=["chat"], capacity=1000)
        await world.contact(queue="tech")  # nobody has tech: they all wait
    world.clock.now += 1
    before = await _commands(world.redis)
    await world.state.enqueue_contact(key("seen", "x", agents), f"probe-{agents}", {
        "channel": "chat", "queue": "support", "tier": "basic", "intent": "general",
        "customer_id": "x", "offset_ms": 0, "skills": [], "data": "{}"})
    after = await _commands(world.redis)
    assert await world.contact_state(f"probe-{agents}") == "offered"
    return after - before


async def test_decisions_do_not_scan_agents_or_contacts(world):
    small = await _decision_cost(world, 5)
    await world.redis.flushdb()
    await world.state.install_policy(world.policy)
    large = await _decision_cost(world, 300)
    assert large == small  # same commands whatever the number of agents and contacts
