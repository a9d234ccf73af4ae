"""`make bench-outcome`: does routing that learns (best_outcome) raise CSAT, and at what
cost in service?

A simulated center, drawn once from a seed: agents with a hidden true CSAT and mean
handle time per intent (each good at one intent, middling at the others), and voice
contacts for three intents arriving as a Poisson stream. The same arrivals go through
the real router process (real Kafka and Redis) once per strategy, served by the same
simulated agents (bench/e2e_agents.py --truths); customers answer the survey through the
router's survey page, and best_outcome learns from those answers as the run goes.

Prints per strategy: contacts answered, the mean true CSAT of the agents who served
them (the whole run, and its second half, once something was learnt), the mean survey
score, service level (answered within --sl-s), ASA and AHT, and whether best_outcome
raised CSAT while keeping service level and ASA within the stated margins.

    python bench/best_outcome.py [--agents 8] [--load 0.75] [--duration 90] [--seed 7]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.e2e import ADMIN, Proc, RedisNodes, free_port, start_router, with_crew  # noqa: E402
from bench.e2e_traffic import tail  # noqa: E402
from shared import topics  # noqa: E402
from shared.cloudevents import decode, encode, new_event  # noqa: E402
from shared.events import ContactCreated, Customer, event_type  # noqa: E402
from shared.kafka import make_producer  # noqa: E402
from shared.policy import DEFAULT_POLICY_FILE  # noqa: E402

INTENTS = ("billing", "tech", "sales")
STRATEGIES = ("longest_idle", "best_outcome")
SURVEY_SECRET = "bench-outcome-survey-secret"


def center(agents: int, rng: random.Random) -> dict[str, dict[str, list[float]]]:
    """Each agent's true [CSAT, mean handle s] per intent: one specialty, done well and
    a little faster; the others middling."""
    truths = {}
    for i in range(agents):
        special = INTENTS[i % len(INTENTS)]
        truths[f"out-{i:05d}"] = {
            intent: ([round(rng.uniform(4.3, 4.9), 2), round(rng.uniform(2.2, 3.0), 2)] if intent == special
                     else [round(rng.uniform(2.6, 3.9), 2), round(rng.uniform(2.6, 3.6), 2)])
            for intent in INTENTS}
    return truths


def arrivals(rate: float, duration: float, rng: random.Random) -> list[tuple[float, str]]:
    """(seconds after the start, intent) of every contact."""
    at, out = 0.0, []
    while (at := at + rng.expovariate(rate)) < duration:
        out.append((at, rng.choice(INTENTS)))
    return out


def policy_file(strategy: str, args, path: Path) -> Path:
    raw = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
    support = raw["queues"]["support"]
    support.update(strategy=strategy, preferred_agent_s=0)
    if strategy == "best_outcome":
        support["learning"] = {"max_hold_s": args.max_hold_s, "hold_margin": args.hold_margin}
    path.write_text(yaml.safe_dump(raw))
    return path


@dataclass
class Run:
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    intent: dict[str, str] = field(default_factory=dict)  # contact -> intent
    sent_at: dict[str, float] = field(default_factory=dict)  # contact -> seconds after the start
    served: dict[str, tuple[str, float]] = field(default_factory=dict)  # contact -> (agent, wait s)
    handled: dict[str, float] = field(default_factory=dict)  # contact -> handle s
    scores: dict[str, int] = field(default_factory=dict)  # contact -> survey score


async def traffic(bootstrap: str, plan: list[tuple[float, str]], drain_s: float) -> Run:
    run = Run()
    producer = make_producer(bootstrap)
    await producer.start()
    feeds = [await tail(bootstrap, topics.ROUTING), await tail(bootstrap, topics.CONTACTS)]
    prefix = f"out-{run.id}-"

    async def read(feed) -> None:
        while True:
            for records in (await feed.getmany(timeout_ms=200, max_records=1000)).values():
                for r in records:
                    if r.key and r.key.decode().startswith(prefix):
                        note(run, decode(r.key, r.value, r.headers))

    readers = [asyncio.create_task(read(f)) for f in feeds]
    started = time.monotonic()
    for n, (at, intent) in enumerate(plan):
        await asyncio.sleep(max(0.0, started + at - time.monotonic()))
        cid = f"{prefix}{n}"
        data = ContactCreated(id=cid, channel="voice", intent=intent, queue="support",
                              customer=Customer(id=f"cust-{cid}", address="x"))
        key, value, headers = encode(new_event(event_type("contact.created"), data, source="bench-outcome", key=cid))
        await producer.send(topics.CONTACTS, value=value, key=key, headers=headers)
        run.intent[cid], run.sent_at[cid] = intent, at
    deadline = time.monotonic() + drain_s  # every contact served and surveyed
    while time.monotonic() < deadline and (len(run.handled) < len(plan) or len(run.scores) < len(run.handled)):
        await asyncio.sleep(0.5)
    for task in readers:
        task.cancel()
    for feed in feeds:
        await feed.stop()
    await producer.stop()
    return run


def note(run: Run, event) -> None:
    d = event.data
    if event.type == event_type("contact.assigned"):
        run.served.setdefault(d.contact_id, (d.agent_id, d.wait_ms / 1000))
    elif event.type == event_type("contact.completed"):
        run.handled[d.contact_id] = d.handle_ms / 1000
    elif event.type == event_type("survey.submitted"):
        run.scores[d.contact_id] = d.score


def figures(run: Run, truths: dict, args, duration: float) -> dict:
    served = [c for c in run.intent if c in run.served]
    late = [c for c in served if run.sent_at[c] >= duration / 2]
    true_csat = lambda cs: statistics.mean(truths[run.served[c][0]][run.intent[c]][0] for c in cs)  # noqa: E731
    waits = [run.served[c][1] for c in served]
    return {"contacts": len(run.intent), "answered": len(served),
            "true_csat": round(true_csat(served), 3), "true_csat_2nd_half": round(true_csat(late), 3),
            "survey_mean": round(statistics.mean(run.scores.values()), 3) if run.scores else None,
            "surveys": len(run.scores),
            "sl_pct": round(100 * sum(w <= args.sl_s for w in waits) / len(waits), 1),
            "asa_s": round(statistics.mean(waits), 2), "aht_s": round(statistics.mean(run.handled.values()), 2),
            "pairs_tried": len({(run.served[c][0], run.intent[c]) for c in served})}


def strategy_run(strategy: str, truths: dict, plan, args, env: dict, redis: RedisNodes, logs: Path) -> dict:
    redis.flushdb()
    env = {**env, "OMNIROUTE_ADMIN_TOKEN": ADMIN, "OMNIROUTE_ROUTER_GROUP": f"bench-out-{uuid.uuid4().hex[:8]}",
           "OMNIROUTE_OFFSET_RESET": "latest", "OMNIROUTE_LOG_LEVEL": "WARNING",
           "OMNIROUTE_SURVEY_SECRET": SURVEY_SECRET,
           "OMNIROUTE_POLICY_FILE": str(policy_file(strategy, args, logs / f"{strategy}.yaml"))}
    port = free_port()
    router = start_router(env, port, logs, Path(args.router_root), name=strategy)
    truths_file = logs / "truths.json"
    truths_file.write_text(json.dumps(truths))
    crew = Proc(sys.executable, "bench/e2e_agents.py", "--router", f"http://127.0.0.1:{port}",
                "--admin-token", ADMIN, "--agents", str(args.agents), "--prefix", "out",
                "--truths", str(truths_file), "--survey-secret", SURVEY_SECRET, env=env,
                log=logs / f"agents-{strategy}.log")
    run = with_crew(crew, router, lambda: asyncio.run(traffic(env["OMNIROUTE_KAFKA_BOOTSTRAP"], plan, 120)))
    return {"strategy": strategy, **figures(run, truths, args, args.duration)}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--agents", type=int, default=8)
    p.add_argument("--load", type=float, default=0.75, help="offered traffic over the agents' capacity")
    p.add_argument("--duration", type=float, default=90.0, help="seconds of arrivals per strategy")
    p.add_argument("--seed", type=int, default=7, help="draws the center and its arrivals")
    p.add_argument("--sl-s", type=float, default=5.0, help="service level threshold, s")
    p.add_argument("--max-hold-s", type=float, default=2.0, help="best_outcome's guard (learning.max_hold_s)")
    p.add_argument("--hold-margin", type=float, default=0.5, help="learning.hold_margin, CSAT points")
    p.add_argument("--sl-margin", type=float, default=5.0, help="service level may drop this many points")
    p.add_argument("--asa-margin", type=float, default=1.0, help="ASA may rise this many seconds")
    p.add_argument("--router-root", default=str(Path(__file__).resolve().parent.parent),
                   help="the source tree the router runs from (a worktree of another commit)")
    args = p.parse_args()
    rng = random.Random(args.seed)
    truths = center(args.agents, rng)
    mean_handle = statistics.mean(h for t in truths.values() for _, h in t.values())
    rate = args.load * args.agents / mean_handle
    plan = arrivals(rate, args.duration, rng)
    env = dict(os.environ)
    redis = RedisNodes(env["OMNIROUTE_REDIS_URL"])
    logs = Path(tempfile.mkdtemp(prefix="bench-outcome-"))
    print(f"{args.agents} agents (each best at one of {', '.join(INTENTS)}), {len(plan)} voice contacts over "
          f"{args.duration:.0f} s ({rate:.2f}/s, load {args.load}), the same for both strategies; best_outcome "
          f"holds at most {args.max_hold_s} s for an agent {args.hold_margin} CSAT points better")
    print(f"{'strategy':>13} {'answered':>8} {'true CSAT':>9} {'2nd half':>8} {'surveys':>7} {'score':>5} "
          f"{'SL<=' + str(args.sl_s) + 's':>8} {'ASA':>6} {'AHT':>6} {'pairs':>5}")
    rows = {}
    for strategy in STRATEGIES:
        r = rows[strategy] = strategy_run(strategy, truths, plan, args, env, redis, logs)
        print(f"{strategy:>13} {r['answered']:>8} {r['true_csat']:>9} {r['true_csat_2nd_half']:>8} {r['surveys']:>7} "
              f"{r['survey_mean']:>5} {str(r['sl_pct']) + ' %':>8} {str(r['asa_s']) + ' s':>6} "
              f"{str(r['aht_s']) + ' s':>6} {r['pairs_tried']:>5}", flush=True)
        print("  " + json.dumps(r), flush=True)
    base, best = rows["longest_idle"], rows["best_outcome"]
    checks = {
        "CSAT raised": best["true_csat"] > base["true_csat"],
        f"SL within {args.sl_margin} points": best["sl_pct"] >= base["sl_pct"] - args.sl_margin,
        f"ASA within +{args.asa_margin} s": best["asa_s"] <= base["asa_s"] + args.asa_margin,
    }
    print("best_outcome vs longest_idle: " + ", ".join(f"{k}: {'yes' if ok else 'NO'}" for k, ok in checks.items()))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
