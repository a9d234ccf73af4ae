"""What no wait estimate of bench-ewt's traffic can beat by much: the router's estimate
given the true handle time and arrival pace, on simulated histories of the same traffic.

A discrete-event model of bench/ewt.py's center (no Kafka, no Redis): Poisson arrivals,
a fifth premium (overtaking basic contacts by the tier's lead), agents with exponential
handle times, a quarter of them on a break planned for a third of the run and back 0.95
to 1.25 times that later. At each queueing it computes the estimate the router's
`estimate` (services/router/adapters/lua/common.lua) would, but with the true mean handle
time and premium arrival rate in place of what the router learns. What error is left is
the traffic's own randomness: how long the calls ahead happen to take, how many premium
callers happen to arrive, when the agents happen to come back.

    python bench/ewt_floor.py [--agents 8] [--hold 3] [--loads 0.9,1.1,1.3] [--histories 30]
"""

from __future__ import annotations

import argparse
import heapq
import random
import statistics
from dataclasses import dataclass, field

PREMIUM_SHARE, PREMIUM_LEAD_S = 0.2, 180.0  # bench-ewt's traffic and the default policy's tier
MIN_WAIT_S = 1.0  # as bench-ewt: shorter waits are not judged


def time_to_work(work: float, serving: int, due: list[float]) -> float | None:
    """When `work` agent-seconds are done by `serving` agents now and one more at each `due`."""
    t, done, working = 0.0, 0.0, serving
    for d in due:
        if working and done + working * (d - t) >= work:
            break
        done, t, working = done + working * (d - t), d, working + 1
    return t + (work - done) / working if working else None


def estimate(ahead: int, premium: bool, serving: int, due: list[float], hold: float, premium_rate: float) -> float | None:
    """The router's estimate with the true handle time and premium arrival rate."""
    base = time_to_work((ahead + 1) * hold, serving, due)
    if base is None:
        return None
    wait = base
    for _ in range(8):  # basic contacts are overtaken by premium arrivals within the lead
        more = 0.0 if premium else premium_rate * min(wait, PREMIUM_LEAD_S)
        wait = min(time_to_work((ahead + 1 + more) * hold, serving, due), 10 * base)
    return wait


@dataclass
class Center:
    agents: int
    hold: float
    rng: random.Random
    busy: list[bool] = field(default_factory=list)
    due: list[float | None] = field(default_factory=list)  # on a break until, or None
    waiting: list[tuple[float, int]] = field(default_factory=list)  # (score, contact), sorted

    def __post_init__(self):
        self.busy, self.due = [False] * self.agents, [None] * self.agents


def history(load: float, agents: int, hold: float, duration: float, seed: int) -> float:
    """One history's median absolute percentage error of the estimates."""
    rng = random.Random(seed)
    rate = load * agents / hold
    center, events, told, queued_at, waited = Center(agents, hold, rng), [], {}, {}, {}
    t, n = 0.0, 0
    while (t := t + rng.expovariate(rate)) < duration:
        heapq.heappush(events, (t, 0, "arrive", (n, rng.random() < PREMIUM_SHARE)))
        n += 1
    planned, away = duration / 3, agents // 4
    heapq.heappush(events, (planned, 1, "break", None))
    for i in range(away):
        heapq.heappush(events, (planned + planned * rng.uniform(0.95, 1.25), 1, "back", i))

    def serve(agent: int, cid: int, now: float) -> None:
        center.busy[agent] = True
        waited[cid] = now - queued_at.get(cid, now)
        heapq.heappush(events, (now + rng.expovariate(1 / hold), 2, "done", agent))

    def next_contact(agent: int, now: float) -> None:
        if center.waiting and center.due[agent] is None and not center.busy[agent]:
            serve(agent, center.waiting.pop(0)[1], now)

    while events:
        now, _, kind, data = heapq.heappop(events)
        if kind == "arrive":
            cid, premium = data
            free = [a for a in range(agents) if not center.busy[a] and center.due[a] is None]
            if free and not center.waiting:
                serve(free[0], cid, now)
                continue
            score = now - (PREMIUM_LEAD_S if premium else 0.0)
            ahead = sum(1 for s, _ in center.waiting if s < score)
            serving = sum(1 for d in center.due if d is None)
            due = sorted(d - now for d in center.due if d is not None and d >= now)
            told[cid] = estimate(ahead, premium, serving, due, hold, PREMIUM_SHARE * rate)
            queued_at[cid] = now
            center.waiting.append((score, cid))
            center.waiting.sort()
        elif kind == "done":
            center.busy[data] = False
            next_contact(data, now)
        elif kind == "break":  # those on a call finish it first
            for a in range(away):
                center.due[a] = now + planned
        elif kind == "back":
            center.due[data] = None
            next_contact(data, now)
    errors = [abs(told[c] - w) / w for c, w in waited.items() if c in told and told[c] is not None and w >= MIN_WAIT_S]
    return statistics.median(errors) if errors else float("nan")


def floor(load: float, agents: int, hold: float, duration: float, histories: int) -> tuple[float, float, float]:
    """Median, lowest and highest of the histories' median errors, %."""
    medians = [100 * history(load, agents, hold, duration, seed) for seed in range(histories)]
    return round(statistics.median(medians), 1), round(min(medians), 1), round(max(medians), 1)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--agents", type=int, default=8)
    p.add_argument("--hold", type=float, default=3.0)
    p.add_argument("--loads", default="0.9,1.1,1.3")
    p.add_argument("--duration", type=float, default=90.0)
    p.add_argument("--histories", type=int, default=30)
    args = p.parse_args()
    for load in (float(x) for x in args.loads.split(",")):
        mid, low, high = floor(load, args.agents, args.hold, args.duration, args.histories)
        print(f"load {load}: median error {mid} % over {args.histories} histories (from {low} % to {high} %)")


if __name__ == "__main__":
    main()
