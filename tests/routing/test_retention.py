"""Finished contacts and closed offers expire after the retention period; a contact that
still waits or is being handled keeps its keys however long it lives."""

import pytest

from services.router.adapters.keys import key
from services.router.adapters.store import RoutingStore
from shared.redis_client import from_url
from tests.routing.conftest import ROUTING_DB, redis_url
from tests.routing.world import Clock, World, db_url, routing_policy
from tests.support.poll import until

pytestmark = pytest.mark.routing
RETENTION_S = 1


@pytest.fixture
async def short_world(infra):
    redis = from_url(db_url(redis_url(infra), ROUTING_DB))
    await redis.flushdb()
    clock = Clock()
    store = RoutingStore(redis, now_ms=clock, presence_timeout_ms=3_600_000, retention_s=RETENTION_S)
    policy = routing_policy()
    await store.install_policy(policy)
    yield World(state=store, policy=policy, clock=clock)
    await redis.aclose()


async def test_finished_contacts_expire_and_live_ones_stay(short_world):
    w = short_world
    await w.agent("a", {"support": 1}, channels=["chat"], capacity=68)
    done = await w.contact()
    declined_first = (await w.offer_of(done))["id"]
    assert await w.state.decline_offer(declined_first, "a") == "ok"  # a declined set and a closed offer
    await w.advance(5_000)  # the re-offer delay: only the decliner can take it
    accepted = (await w.offer_of(done))["id"]
    await w.accept(done)
    assert await w.state.complete_contact(done, "a") == "ok"

    held = await w.contact()
    held_offer = (await w.offer_of(held))["id"]
    await w.accept(held)
    await w.agent("b", {"tech": 1}, channels=["voice"], login=False)  # nobody serves tech: it waits
    waiting = await w.contact(queue="tech")
    assert await w.contact_state(waiting) == "queued"

    finished = [key("contact", done), key("contact_declined", done), key("offer", declined_first),
                key("offer", accepted)]
    for name in finished:
        assert 0 < await w.redis.ttl(name) <= RETENTION_S, name
    live = [key("contact", held), key("offer", held_offer), key("contact", waiting)]
    for name in live:
        assert await w.redis.ttl(name) == -1, name  # no end of life while live

    async def gone():
        return not await w.redis.exists(*finished)

    await until(gone, 10, what="finished contact's keys expired")
    assert await w.redis.exists(*live) == len(live)
    assert await w.contact_state(held) == "assigned" and await w.contact_state(waiting) == "queued"
    assert await w.state.complete_contact(held, "a") == "ok"
    assert 0 < await w.redis.ttl(key("contact", held)) <= RETENTION_S
    assert 0 < await w.redis.ttl(key("offer", held_offer)) <= RETENTION_S


async def test_lua_renders_every_key_as_python_does_for_any_domain(short_world):
    """The Lua helpers and the Python layout name the same keys (run in the real Redis)."""
    from services.router.adapters import keys as layout

    redis = short_world.state.redis
    for domain in ("default", "acme-eu"):
        script = layout.lua_prelude() + (
            "return {k_wait('support', 0, 'chat'), k_agent('ann'), k_seen('src', 'e1'), K_TIMERS, K_POOL_PREFIX}")
        found = [x.decode() for x in await redis.eval(script, len(layout.CONSTANTS), *layout.script_keys(domain))]
        assert found == [layout.key("wait", "support", 0, "chat", domain=domain), layout.key("agent", "ann", domain=domain),
                         layout.key("seen", "src", "e1", domain=domain), layout.constant("timers", domain),
                         layout.domain_prefix(domain) + "pool:"]
