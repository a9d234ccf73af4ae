"""Failover on the distributed engines: three router replicas under load in three routing
domains on a 6-node Redis Cluster and a 3-broker Kafka cluster; the Redis primary holding
the first domain is killed (its replica is promoted), then a broker; both come back. The
invariant checker then counts, per domain, what was lost or double-assigned, and the test
prints how long routing stopped after each fault (docs/scaling.md)."""

import asyncio
import json
import os
import statistics
import time

import pytest
from redis.asyncio import Redis

from services.router.adapters.keys import constant
from tests.faults.chaos import Chaos, describe, run
from tests.infra import REPO, local_infra_module

pytestmark = pytest.mark.failover
STATE, LOGS = REPO / ".omniroute" / "failover-cluster", REPO / ".omniroute" / "failover-logs"
DOMAINS = ("acme", "umbrella", "hooli")  # one per primary of a 3-primary cluster (slots 11304, 5538, 4703)


async def test_a_redis_primary_and_a_broker_killed_under_load_lose_and_double_assign_nothing():
    LOGS.mkdir(parents=True, exist_ok=True)
    cluster = local_infra_module("cluster")
    env = await asyncio.to_thread(cluster.up, STATE)
    chaos = Chaos({**os.environ, **env}, STATE, LOGS, cluster, DOMAINS)
    pauses: dict[str, float] = {}
    lags: list[float] = []
    slots = {d: await asyncio.to_thread(cluster.primary_of, STATE, constant("policy", d)) for d in DOMAINS}

    async def schedule(chaos: Chaos, seconds: float) -> None:
        start = time.monotonic()
        primary = await asyncio.to_thread(cluster.primary_of, STATE, constant("policy", DOMAINS[0]))
        ports = json.loads((STATE / "infra.json").read_text())["redis_ports"]
        sampler = asyncio.create_task(_replication_lag(ports[primary], lags))
        await asyncio.sleep(seconds * 0.3)
        sampler.cancel()
        pauses["redis primary"] = await _crash(chaos, cluster, "redis", primary, DOMAINS[0], down_s=8)
        await asyncio.sleep(max(0.0, start + seconds * 0.65 - time.monotonic()))
        pauses["kafka broker"] = await _crash(chaos, cluster, "kafka", 1, DOMAINS[0], down_s=5)

    try:
        report = await run(chaos, replicas=3, agents=12, rate=6, seconds=50, kills=0, schedule=schedule)
    finally:
        chaos.stop_all()
        await asyncio.to_thread(cluster.down, STATE)
    summary = describe(chaos, report) + "\n  routing stopped for: " + ", ".join(
        f"{k} {v:.1f} s" for k, v in pauses.items()) + f"\n  domains on Redis nodes: {slots}" + (
        f"\n  replica behind its primary under load (ms until it had what the primary had): "
        f"p50 {statistics.median(lags):.2f}, p99 {sorted(lags)[int(len(lags) * 0.99)]:.2f}, max {max(lags):.2f} "
        f"({len(lags)} samples)" if lags else "")
    print(summary)
    assert report.ok, summary + "\n" + "\n".join(report.lost[:10] + report.double_assigned[:10]
                                                 + report.over_capacity[:10] + report.disagreements[:10])
    assert report.contacts >= chaos.tally.contacts > 150
    assert {"kill -9 redis primary", "kill -9 kafka broker"} <= set(chaos.tally.faults)


async def _replication_lag(port: int, out: list[float]) -> None:
    """The window a primary's crash can lose: sample the primary's replication offset, then
    time until its replica has applied that much (the acknowledged-but-not-replicated span)."""
    primary = Redis(port=port)
    replica = Redis(port=int((await primary.info("replication"))["slave0"]["port"]))
    try:
        while True:
            target = (await primary.info("replication"))["master_repl_offset"]
            t = time.perf_counter()
            while (await replica.info("replication"))["slave_repl_offset"] < target:
                pass
            out.append((time.perf_counter() - t) * 1000)
            await asyncio.sleep(0.05)
    finally:
        await primary.aclose()
        await replica.aclose()


async def _crash(chaos: Chaos, cluster, kind: str, node: int, domain: str, down_s: float) -> float:
    """kill -9 the node, start it again after `down_s`; seconds until the router next
    decided an offer in `domain` (by the decision's own time, not when the event arrived)."""
    at = time.time()
    await asyncio.to_thread(cluster.kill, STATE, kind, node)
    chaos.tally.faults[f"kill -9 {kind} {'primary' if kind == 'redis' else 'broker'}"] += 1
    await asyncio.sleep(down_s)
    await asyncio.to_thread(cluster.restart, STATE, kind, node)
    deadline = time.monotonic() + 60
    while not [t for t in chaos.offered_at[domain] if t > at] and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    later = [t for t in chaos.offered_at[domain] if t > at]
    return (later[0] - at) if later else float("inf")
