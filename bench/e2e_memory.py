"""Redis memory of routing state, for `make bench-e2e`: per 10,000 agents, and per
100,000 finished contacts while they are kept (the retention period), through the
router's own transitions (RoutingStore; the outbox is emptied as the relay would). Then,
with a short retention, what is left of those contacts once it has passed: only their
event dedupe markers, which live OMNIROUTE_DEDUPE_TTL_S.

    python bench/e2e_memory.py   (OMNIROUTE_REDIS_URL: a Redis database it FLUSHES)
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from redis.asyncio import BlockingConnectionPool, Redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.router.adapters import keys  # noqa: E402
from services.router.adapters.keys import key  # noqa: E402
from services.router.adapters.store import RoutingStore  # noqa: E402
from shared.policy import DEFAULT_POLICY_FILE, qualifications, read_policy_file  # noqa: E402

SKILLS = {"support": 3, "billing": 3}
BATCH = 500


async def used_mb(redis: Redis) -> float:
    return (await redis.info("memory"))["used_memory"] / 2**20


async def settle(redis: Redis) -> None:
    """Touch every key once: expired ones are reclaimed now, not by the sampler later."""
    async for _ in redis.scan_iter(count=10_000):
        pass


async def run(url: str, agents: int, finished: int, short_retention_s: int = 2) -> dict:
    redis = Redis(connection_pool=BlockingConnectionPool.from_url(url, max_connections=32, timeout=60))
    await redis.flushdb()
    policy = read_policy_file(DEFAULT_POLICY_FILE)[1]
    store = RoutingStore(redis, retention_s=short_retention_s)
    await store.install_policy(policy)
    base = await used_mb(redis)
    profile = {"name": "", "capacity": 100, "channels": ["chat", "email", "voice"], "skills": SKILLS,
               "sip_uri": "", "quals": qualifications(policy, SKILLS)}
    for i in range(0, agents, BATCH):
        await asyncio.gather(*(store.upsert_agent(f"m{n}", {**profile, "name": f"m{n}"})
                               for n in range(i, min(agents, i + BATCH))))
    with_agents = await used_mb(redis)
    await asyncio.gather(*(store.set_agent_state(f"m{n}", "available") for n in range(min(agents, BATCH))))
    before = await used_mb(redis)
    for i in range(0, finished, BATCH):
        ids = [f"f{n}" for n in range(i, min(finished, i + BATCH))]
        await asyncio.gather(*(store.enqueue_contact(store.dedupe_key("mem", cid), cid, {
            "channel": "chat", "queue": "support", "tier": "basic", "intent": "general",
            "customer_id": f"cust-{cid}", "offset_ms": 0, "skills": [], "data": "{}", "conversation_id": None})
            for cid in ids))
        found = await store.get_contacts(ids)
        await asyncio.gather(*(store.accept_offer(c.offer, c.agent) for c in found if c and c.state == "offered"))
        await asyncio.gather(*(store.complete_contact(c.id, c.agent) for c in found if c and c.agent))
    await redis.delete(keys.OUTBOX)  # what the relay does once it has published the events
    after = await used_mb(redis)
    await asyncio.sleep(short_retention_s + 1)
    await settle(redis)
    left = await used_mb(redis)
    markers = 0
    async for _ in redis.scan_iter(match=key("seen", "*", "*"), count=10_000):
        markers += 1
    await redis.aclose()
    return {"per_10k_agents_mb": round((with_agents - base) * 10_000 / agents, 1),
            "per_100k_finished_mb": round((after - before) * 100_000 / finished, 1),
            "after_retention_mb": round(max(0.0, left - before) * 100_000 / finished, 1),
            "dedupe_markers_left": markers,
            "agents": agents, "finished": finished}


def memory_report(url: str, agents: int = 10_000, finished: int = 100_000) -> dict:
    return asyncio.run(run(url, agents, finished))


if __name__ == "__main__":
    started = time.monotonic()
    print(memory_report(os.environ["OMNIROUTE_REDIS_URL"]), f"{time.monotonic() - started:.0f} s")
