"""`make bench-ewt`: how right the estimated wait is.

Voice traffic (Poisson arrivals, a fifth of it premium) goes through the real router
process on real Kafka and Redis, served by simulated agents (bench/e2e_agents.py:
desktops, exponential handle times). A third of the way in, a quarter of them go on a
break planned to last a third of the run (the policy's `planned_breaks_s`), and each
comes back 0.95 to 1.25 times that later (agents are late from breaks more often than
early). For every contact that waited, the estimate
given when it was queued is set against the wait that followed, for two estimators on
the same contacts:

  router  contact.queued's estimated_wait_s: its place in the real order (tier, aging),
          the agents serving it (and when those on a planned break are due back), the
          queue's recent handle time and the pace of arrivals that overtake it
  pace    its place in arrival order times the queue's answer pace (what the chat
          widget showed before: services/chat_gateway/domain/chat.py)

Prints, per load (offered traffic over the agents' capacity), the median and p90 of the
absolute percentage error |estimate - wait| / wait; then the same by the contact's place
(1, 2-4, 5-9, 10 or more ahead of it, the router's position) beside a bound (also for
all of a load's judged contacts at their places): the error
of the best possible point estimate if handle times are exponential and staffing stays
put (the wait for the k-th of the departures is then Erlang(k): no estimate gets its
median error under ~60 % at place 1, ~20 % takes about 10 places). Last, the floor of
this traffic (bench/ewt_floor.py): the router's estimate given the true handle time and
arrival pace, on simulated histories of the same traffic (tiers and breaks included).

    python bench/ewt.py [--agents 8] [--hold 3] [--loads 0.85,1.0,1.15] [--duration 40]
                        [--seed 1] [--open-breaks] [--contacts FILE] [--router-root DIR]

--open-breaks leaves the break unplanned (and the policy as it is): for a router from
before planned breaks, run with --router-root on a worktree of that commit.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.e2e import ADMIN, Proc, RedisNodes, free_port, start_router, with_crew  # noqa: E402
from bench.e2e_traffic import tail  # noqa: E402
from bench.ewt_floor import floor as traffic_floor  # noqa: E402
from services.chat_gateway.domain.chat import Pace, estimated_wait_s  # noqa: E402
from shared import topics  # noqa: E402
from shared.cloudevents import decode, encode, new_event  # noqa: E402
from shared.events import ContactCreated, Customer, event_type  # noqa: E402
from shared.policy import DEFAULT_POLICY_FILE  # noqa: E402
from shared.kafka import make_producer  # noqa: E402

DEFAULT_WAIT_S = 60.0  # the pace estimator's answer before any assignment (the widget's default)
MIN_WAIT_S = 1.0  # waits shorter than this are not judged (a percentage of nothing)


class Run:
    """One load level's contacts: what each was told when queued, and what it waited."""

    def __init__(self):
        self.id = uuid.uuid4().hex[:6]
        self.order: list[str] = []  # ours, in arrival order
        self.waiting: list[str] = []  # queued, not yet assigned, in arrival order
        self.pace = Pace()
        self.told: dict[str, tuple[float | None, float]] = {}  # contact -> (router, pace) estimate, s
        self.place: dict[str, int] = {}  # contact -> its place in the router's order when queued
        self.waited: dict[str, float] = {}  # contact -> wait, s
        self.started = time.monotonic()
        self.at: dict[str, float] = {}  # contact -> when it was queued, s into the run
        self.tier: dict[str, str] = {}

    def queued(self, cid: str, tier: str, router_estimate: float | None, router_position: int | None) -> None:
        self.waiting.append(cid)
        self.tier[cid] = tier
        self.at[cid] = round(time.monotonic() - self.started, 2)
        position = len(self.waiting)
        self.told[cid] = (router_estimate, float(estimated_wait_s(position, self.pace, DEFAULT_WAIT_S)))
        self.place[cid] = router_position or position

    def assigned(self, cid: str, wait_ms: int) -> None:
        if cid in self.waiting:
            self.waiting.remove(cid)
        self.pace = self.pace.after_assignment(int(time.time() * 1000))
        self.waited[cid] = wait_ms / 1000

    def judged(self, places: range = range(1, 1 << 30)) -> list[str]:
        return [c for c, w in self.waited.items() if w >= MIN_WAIT_S and c in self.told
                and self.told[c][0] is not None and self.place.get(c, 0) in places]

    def errors(self, places: range = range(1, 1 << 30)) -> tuple[list[float], list[float]]:
        judged = self.judged(places)
        router = [abs(self.told[c][0] - self.waited[c]) / self.waited[c] for c in judged]
        pace = [abs(self.told[c][1] - self.waited[c]) / self.waited[c] for c in judged]
        return router, pace

    def rows(self, load: float) -> list[dict]:
        """Each judged contact: when it was queued, its place, what it was told, what it waited."""
        return [{"load": load, "contact": c, "queued_s": self.at.get(c), "tier": self.tier.get(c), "place": self.place[c],
                 "router_s": self.told[c][0], "pace_s": self.told[c][1], "waited_s": self.waited[c]}
                for c in self.judged()]


PLACES = {"1": range(1, 2), "2-4": range(2, 5), "5-9": range(5, 10), "10+": range(10, 1 << 30)}


def bound(places: list[int], draws: int = 2000) -> list[float]:
    """Errors of the best point estimate per place (Erlang(k) waits, exponential handle
    times, steady staffing), drawn for these places: what no estimator can beat."""
    rng = np.random.default_rng(7)
    errors = []
    for k in places:
        w = rng.gamma(k, 1.0 / k, draws)
        guesses = np.linspace(0.3, 1.2, 91)
        best = min(guesses, key=lambda e: np.median(np.abs(e - w) / w))
        errors.extend((np.abs(best - w) / w)[: max(1, draws // len(places))])
    return errors


def staffing(duration: float, agents: int, draw: random.Random) -> list[tuple[float, str]]:
    """When the crew's staffing changes (s into the run, command): a quarter of the agents
    go on a break a third of the way in, each back 0.95-1.25 x the planned third later."""
    away, planned = agents // 4, duration / 3
    back = [(planned + planned * draw.uniform(0.95, 1.25), f"back {i}") for i in range(away)]
    return [(planned, f"away {away}"), *sorted(back)]


async def traffic(bootstrap: str, rate: float, duration: float, crew: Proc, agents: int,
                  draw: random.Random) -> Run:
    run = Run()
    producer = make_producer(bootstrap)
    await producer.start()
    routing = await tail(bootstrap, topics.ROUTING)
    prefix = f"ewt-{run.id}-"

    async def read() -> None:
        while True:
            for records in (await routing.getmany(timeout_ms=200, max_records=1000)).values():
                for r in records:
                    if not r.key or not r.key.decode().startswith(prefix):
                        continue
                    event = decode(r.key, r.value, r.headers)
                    if event.type == event_type("contact.queued"):
                        run.queued(event.data.contact_id, event.data.tier, event.data.estimated_wait_s, event.data.position)
                    elif event.type == event_type("contact.assigned"):
                        run.assigned(event.data.contact_id, event.data.wait_ms)

    reader = asyncio.create_task(read())
    numbers, started = itertools.count(), time.monotonic()
    changes = staffing(duration, agents, draw)
    while (elapsed := time.monotonic() - started) < duration:
        while changes and changes[0][0] <= elapsed:
            crew.send(changes.pop(0)[1])
        cid = f"{prefix}{next(numbers)}"
        tier = "premium" if draw.random() < 0.2 else "basic"
        data = ContactCreated(id=cid, channel="voice", intent="general", tier=tier,
                              customer=Customer(id=f"cust-{cid}", address="x"))
        key, value, headers = encode(new_event(event_type("contact.created"), data, source="bench-ewt", key=cid))
        await producer.send(topics.CONTACTS, value=value, key=key, headers=headers)
        run.order.append(cid)
        await asyncio.sleep(draw.expovariate(rate))
    for _, command in changes:
        crew.send(command)
    drain = time.monotonic() + 120  # the queue empties: every wait is known
    while run.waiting and time.monotonic() < drain:
        await asyncio.sleep(0.5)
    reader.cancel()
    await routing.stop()
    await producer.stop()
    return run


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return round(100 * s[min(len(s) - 1, int(p / 100 * len(s)))], 1) if s else float("nan")


def level(load: float, args, env: dict, redis: RedisNodes, logs: Path) -> dict:
    redis.flushdb()
    if not args.open_breaks:  # the break the agents take is planned to last a third of the run
        policy = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
        policy["planned_breaks_s"] = {"break": args.duration / 3}
        (logs / "policy.yaml").write_text(yaml.safe_dump(policy))
        env = {**env, "OMNIROUTE_POLICY_FILE": str(logs / "policy.yaml")}
    env = {**env, "OMNIROUTE_ADMIN_TOKEN": ADMIN, "OMNIROUTE_ROUTER_GROUP": f"bench-ewt-{uuid.uuid4().hex[:8]}",
           "OMNIROUTE_OFFSET_RESET": "latest", "OMNIROUTE_LOG_LEVEL": "WARNING"}
    port = free_port()
    router = start_router(env, port, logs, Path(args.router_root))
    crew = Proc(sys.executable, "bench/e2e_agents.py", "--router", f"http://127.0.0.1:{port}",
                "--admin-token", ADMIN, "--agents", str(args.agents), "--hold", str(args.hold),
                "--prefix", f"ewt{uuid.uuid4().hex[:4]}", "--seed", str(args.seed + int(load * 100)),
                env=env, log=logs / "agents.log")
    draw = random.Random(args.seed + int(load * 100))  # the same arrivals, tiers and returns per load
    rate = load * args.agents / args.hold  # a voice agent takes one call at a time
    run = with_crew(crew, router, lambda: asyncio.run(
        traffic(env["OMNIROUTE_KAFKA_BOOTSTRAP"], rate, args.duration, crew, args.agents, draw)))
    if args.contacts:
        with open(args.contacts, "a") as out:
            out.writelines(json.dumps(row) + "\n" for row in run.rows(load))
    router_err, pace_err = run.errors()
    waits = [w for w in run.waited.values() if w >= MIN_WAIT_S]
    bias = [(run.told[c][0] - run.waited[c]) / run.waited[c] for c in run.judged()]
    floor = bound([run.place[c] for c in run.judged()]) if router_err else []
    by_place = {}
    for name, places in PLACES.items():
        r_err, p_err = run.errors(places)
        floor = bound([run.place[c] for c in run.judged(places)]) if r_err else []
        by_place[name] = {"judged": len(r_err), "router": (pct(r_err, 50), pct(r_err, 90)),
                          "pace": (pct(p_err, 50), pct(p_err, 90)), "bound": (pct(floor, 50), pct(floor, 90))}
    return {"load": load, "rate_per_s": round(rate, 2), "contacts": len(run.order), "judged": len(router_err),
            "mean_wait_s": round(statistics.mean(waits), 1) if waits else None,
            "router_median_ape": pct(router_err, 50), "router_p90_ape": pct(router_err, 90),
            "pace_median_ape": pct(pace_err, 50), "pace_p90_ape": pct(pace_err, 90),
            "unassigned": len(run.waiting), "by_place": by_place,
            "router_bias_p50": pct(bias, 50), "bound_median_ape": pct(floor, 50),
            "floor_median_ape": traffic_floor(load, args.agents, args.hold, args.duration, 30)}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--agents", type=int, default=8)
    p.add_argument("--hold", type=float, default=3.0, help="mean handle time, s (exponential)")
    p.add_argument("--loads", default="0.85,1.0,1.15,1.3", help="offered traffic over the agents' capacity")
    p.add_argument("--duration", type=float, default=40.0, help="seconds of arrivals per load")
    p.add_argument("--seed", type=int, default=1, help="arrivals and handle times drawn the same each run")
    p.add_argument("--contacts", help="append each judged contact to this file (JSON lines)")
    p.add_argument("--open-breaks", action="store_true",
                   help="the break has no planned length, the policy is left as it is (an older router)")
    p.add_argument("--router-root", default=str(Path(__file__).resolve().parent.parent),
                   help="the source tree the router runs from (a worktree of another commit)")
    args = p.parse_args()
    env = dict(os.environ)
    redis = RedisNodes(env["OMNIROUTE_REDIS_URL"])
    logs = Path(tempfile.mkdtemp(prefix="bench-ewt-"))
    print(f"agents {args.agents}, mean handle {args.hold} s, {args.duration:.0f} s of arrivals per load, "
          f"a quarter of the agents on a {'' if args.open_breaks else 'planned '}break of a third, "
          f"back 0.95-1.25 x later; waits under {MIN_WAIT_S:.0f} s not judged")
    print(f"{'load':>5} {'rate/s':>7} {'contacts':>8} {'judged':>6} {'mean wait':>9}   "
          f"{'router APE p50':>14} {'p90':>6}   {'pace APE p50':>12} {'p90':>6}")
    for load in (float(x) for x in args.loads.split(",")):
        r = level(load, args, env, redis, logs)
        print(f"{r['load']:>5} {r['rate_per_s']:>7} {r['contacts']:>8} {r['judged']:>6} {str(r['mean_wait_s']) + ' s':>9}   "
              f"{str(r['router_median_ape']) + ' %':>14} {str(r['router_p90_ape']) + ' %':>6}   "
              f"{str(r['pace_median_ape']) + ' %':>12} {str(r['pace_p90_ape']) + ' %':>6}"
              + (f"   ({r['unassigned']} never assigned)" if r["unassigned"] else "")
              + f"   router bias p50 {r['router_bias_p50']} %, bound p50 {r['bound_median_ape']} %", flush=True)
        for name, b in r["by_place"].items():
            if b["judged"]:
                print(f"{'':>5} {'place ' + name:>16} {b['judged']:>6} {'':>9}   {str(b['router'][0]) + ' %':>14} "
                      f"{str(b['router'][1]) + ' %':>6}   {str(b['pace'][0]) + ' %':>12} {str(b['pace'][1]) + ' %':>6}"
                      f"   bound {b['bound'][0]} % / {b['bound'][1]} %", flush=True)
        mid, low, high = r["floor_median_ape"]
        print(f"{'':>5} {'floor':>16}   the same estimate knowing the true handle time and pace, on 30 "
              f"simulated histories of this traffic (bench/ewt_floor.py): p50 {mid} % (from {low} % to {high} %)")
        print("  " + json.dumps(r), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
