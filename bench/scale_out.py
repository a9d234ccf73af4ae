"""Scale-out figures (`make bench-scale`): the end-to-end scenario of bench/e2e.py with 1,
2 and 3 router replicas, on one Redis and on a Redis Cluster of 3 primaries (and 3
replicas), in the same run on the same machine and broker. Three routing domains, one per
primary of the cluster, share the agents and the traffic, so the cluster has work for
each primary.

Per configuration: steady Poisson traffic (time to route beside the baseline relay, router
CPU-ms and Redis commands per contact summed over replicas and primaries) and a burst
(queued contacts drained by agents set free at once: decisions per second).

Needs OMNIROUTE_KAFKA_BOOTSTRAP and OMNIROUTE_REDIS_URL (the single Redis); the cluster
is started here (deploy/local/cluster.py, Redis only).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.e2e import RedisNodes, scenario  # noqa: E402
from tests.infra import local_infra_module  # noqa: E402

# One per primary of a 3-primary cluster: their hash slots are 11304, 5538 and 4703.
DOMAINS = ("acme", "umbrella", "hooli")


def run_config(label: str, replicas: int, url: str, args, env: dict, logs: Path) -> dict:
    nodes = RedisNodes(url)
    base = {**env, "OMNIROUTE_REDIS_URL": url}
    steady = scenario(f"{args.agents}x{args.rate:g}", args.agents, args.rate, args, base, nodes, logs,
                      replicas=replicas, domains=DOMAINS)
    row = {"config": f"{replicas} replica{'s' if replicas > 1 else ''}, {label}", "steady": steady}
    if args.burst:
        row["burst"] = scenario("burst", args.burst_agents, 0, args, base, nodes, logs, replicas=replicas, domains=DOMAINS)
    print(json.dumps({k: v for k, v in row.items()}, default=str)[:300], flush=True)
    return row


def table(rows: list[dict]) -> str:
    head = ("| configuration | time to route p50 / p99 ms | baseline relay p99 ms | router CPU-ms / contact "
            "| Redis cmds / contact | Redis CPU-ms / contact | router CPU % | burst decisions/s |\n"
            "|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in rows:
        s, t = r["steady"], r["steady"]["time_to_route_ms"]
        burst = r.get("burst", {}).get("decisions_per_s", "-")
        lines.append(f"| {r['config']} | {t.get('p50')} / {t.get('p99')} | {s['relay_ms'].get('p99')} "
                     f"| {s['router_cpu_ms_per_contact']} | {s['redis_cmds_per_contact']} "
                     f"| {s.get('redis_cpu_ms_per_contact', '-')} | {s['router_cpu_pct']} "
                     f"| {burst} |")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--replicas", default="1,2,3")
    p.add_argument("--agents", type=int, default=300)
    p.add_argument("--rate", type=float, default=30)
    p.add_argument("--duration", type=float, default=30)
    p.add_argument("--warmup", type=float, default=10)
    p.add_argument("--hold", type=float, default=5.0)
    p.add_argument("--idle", type=float, default=5)
    p.add_argument("--burst", type=int, default=3_000, help="contacts queued in the burst (0: no burst)")
    p.add_argument("--burst-agents", type=int, default=300)
    p.add_argument("--agent-connections", type=int, default=50)
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args()
    args.router_root = str(ROOT)
    env = dict(os.environ)
    for name in ("OMNIROUTE_KAFKA_BOOTSTRAP", "OMNIROUTE_REDIS_URL"):
        if not env.get(name):
            print(f"{name} is not set (make bench-scale starts Kafka and Redis and sets it)", file=sys.stderr)
            return 2
    logs = ROOT / ".omniroute" / "bench-scale-logs"
    logs.mkdir(parents=True, exist_ok=True)
    cluster, state = local_infra_module("cluster"), ROOT / ".omniroute" / "bench-scale-cluster"
    cluster_url = cluster.up(state, kafka=False)["OMNIROUTE_REDIS_URL"]
    rows = []
    try:
        for label, url in (("1 Redis primary", env["OMNIROUTE_REDIS_URL"]), ("3 Redis primaries", cluster_url)):
            for replicas in map(int, args.replicas.split(",")):
                rows.append(run_config(label, replicas, url, args, env, logs))
    finally:
        cluster.down(state)
    print(f"\n{len(DOMAINS)} routing domains, {args.agents} agents, {args.rate:g} contacts/s, mean handle "
          f"{args.hold:g} s; burst: {args.burst} contacts to {args.burst_agents} agents; {os.cpu_count()} cores\n")
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
