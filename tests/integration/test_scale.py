"""2,000 logged-in agents on one router with every loop running (stats report, desktop
feed, relay, timers): every API call succeeds, and a stats report costs the same number
of Redis commands at 200 agents as at 2,000 (nothing on a timer reads every agent)."""

import asyncio
import dataclasses

import pytest
from redis.asyncio import Redis

from services.router.adapters.stats_store import StatsStore
from services.router.adapters.store import RoutingStore
from services.router.handlers.stats import build_report
from tests.integration.conftest import harness, redis  # noqa: F401  (fixtures)
from tests.support.router_harness import ADMIN, infra_address

pytestmark = [pytest.mark.scale, pytest.mark.integration, pytest.mark.single_node]
SKILLS = {"support": 2, "billing": 3, "technical": 1}


class CountingRedis(Redis):
    """Counts the commands this client sends (a pipeline's as many as it holds)."""

    sent = 0

    async def execute_command(self, *args, **options):
        self.sent += 1
        return await super().execute_command(*args, **options)

    def pipeline(self, transaction=True, shard_hint=None):
        pipe = super().pipeline(transaction, shard_hint)
        execute = pipe.execute

        async def counted(raise_on_error=True):
            self.sent += len(pipe.command_stack)
            return await execute(raise_on_error)

        pipe.execute = counted
        return pipe


async def sign_in(harness, first: int, last: int) -> list[int]:  # noqa: F811
    """Create and log in agents [first, last) through the API; returns every status code."""
    gate = asyncio.Semaphore(50)

    async def one(i: int) -> list[int]:
        async with gate:
            r = await harness.http.post("/v1/agents", headers=ADMIN, json={
                "id": f"a{i:04d}", "name": f"Agent {i}", "skills": SKILLS, "channels": ["chat", "email", "voice"]})
            if r.status_code != 201:
                return [r.status_code]
            auth = {"Authorization": f"Bearer {r.json()['token']}"}
            login = await harness.http.post(f"/v1/agents/a{i:04d}/login", headers=auth)
            beat = await harness.http.post(f"/v1/agents/a{i:04d}/heartbeat", headers=auth)
            return [201, login.status_code, beat.status_code]

    return [code for codes in await asyncio.gather(*(one(i) for i in range(first, last))) for code in codes]


async def report_commands(harness, counting: CountingRedis) -> int:  # noqa: F811
    deps = dataclasses.replace(harness.service.deps, store=RoutingStore(counting), stats=StatsStore(counting))
    before = counting.sent
    report = await build_report(deps)
    assert report["queues"], report
    return counting.sent - before


async def test_two_thousand_agents_keep_every_call_answered_and_reports_flat(harness, infra):  # noqa: F811
    counting = CountingRedis.from_url(infra_address(infra, "redis_url"))
    try:
        codes = await sign_in(harness, 0, 200)
        assert set(codes) == {200, 201}, sorted(set(codes))
        at_200 = await report_commands(harness, counting)
        stats = await harness.http.get("/v1/stats", headers=ADMIN)
        assert stats.status_code == 200
        staffed = {(r["queue"], r["channel"]): r["agents"]["staffed"] for r in stats.json()["queues"]}
        assert staffed[("support", "chat")] == 200

        codes = await sign_in(harness, 200, 2000)
        assert set(codes) == {200, 201}, sorted(set(codes))
        at_2000 = await report_commands(harness, counting)
        assert at_2000 == at_200, (at_200, at_2000)

        stats = await harness.http.get("/v1/stats", headers=ADMIN)
        assert stats.status_code == 200
        rows = {(r["queue"], r["channel"]): r["agents"] for r in stats.json()["queues"]}
        assert rows[("support", "chat")] == {"staffed": 2000, "available": 2000}
        assert rows[("technical", "voice")]["staffed"] == 2000  # level 1 meets the last step
        for path in ("/v1/staffing", "/v1/queues", "/v1/agents/a1999"):
            assert (await harness.http.get(path, headers=ADMIN)).status_code == 200
    finally:
        await counting.aclose()
