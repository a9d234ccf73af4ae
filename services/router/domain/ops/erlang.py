"""Staffing formulas: Erlang C (M/M/N, callers wait forever) and Erlang A
(M/M/N+M, callers abandon after an exponential patience). Pure functions.

Units: seconds for handle time, patience, target and answers; `traffic` in Erlang
(arrival rate x average handle time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_AGENTS = 2000


@dataclass(frozen=True)
class Staffing:
    agents: int
    p_wait: float  # probability an arrival has to wait at all
    service_level: float  # fraction of arrivals answered within the target
    asa_s: float  # average speed of answer (mean wait) in seconds
    p_abandon: float = 0.0
    occupancy: float = 0.0


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability, by the stable recurrence B(n) = A*B(n-1) / (n + A*B(n-1))."""
    b = 1.0
    for n in range(1, agents + 1):
        b = traffic * b / (n + traffic * b)
    return b


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that an arrival waits (Erlang C); 1 when the queue is unstable."""
    if agents <= traffic:
        return 1.0
    b = erlang_b(agents, traffic)
    return agents * b / (agents - traffic * (1 - b))


def erlang_c_staffing(agents: int, traffic: float, aht_s: float, target_s: float) -> Staffing:
    if agents <= traffic:
        return Staffing(agents, 1.0, 0.0, math.inf, occupancy=1.0)
    pw = erlang_c(agents, traffic)
    sl = 1 - pw * math.exp(-(agents - traffic) * target_s / aht_s)
    asa = pw * aht_s / (agents - traffic)
    return Staffing(agents, pw, sl, asa, occupancy=traffic / agents)


def erlang_a_staffing(agents: int, traffic: float, aht_s: float, target_s: float, patience_s: float) -> Staffing:
    """M/M/N+M by its birth-death chain: states = contacts in system, service rate
    min(n, N)/AHT, abandonment rate max(n-N, 0)/patience. The tail is truncated once
    it is negligible; the chain is always stable when patience is finite."""
    if agents < 1:
        return Staffing(agents, 1.0, 0.0, patience_s, p_abandon=1.0)
    lam, mu, theta = traffic / aht_s, 1 / aht_s, 1 / patience_s
    probs = _stationary(agents, lam, mu, theta)
    queue = probs[agents:]  # an arrival finding n >= N contacts waits
    pw = sum(queue)
    mean_queue = sum(k * p for k, p in enumerate(queue))  # contacts waiting
    p_abandon = theta * mean_queue / lam
    asa = mean_queue / lam  # Little: mean wait over all arrivals
    served_late = _late_or_lost(queue, agents * mu, theta, target_s)
    busy = sum(min(n, agents) * p for n, p in enumerate(probs)) / agents
    return Staffing(agents, pw, 1 - served_late, asa, p_abandon, busy)


def _stationary(agents: int, lam: float, mu: float, theta: float, eps: float = 1e-12) -> list[float]:
    weights, w, n = [1.0], 1.0, 0
    limit = agents + 100_000
    while n < limit:
        n += 1
        w *= lam / (min(n, agents) * mu + max(n - agents, 0) * theta)
        weights.append(w)
        if n > agents and w < eps * max(weights[agents:] or [1.0]) and lam < agents * mu + (n - agents) * theta:
            break
    total = sum(weights)
    return [x / total for x in weights]


def _late_or_lost(queue: list[float], service_rate: float, theta: float, target_s: float) -> float:
    """Probability that an arrival waits and is NOT answered within target_s.

    A tagged arrival finding j contacts queued moves up at rate service_rate +
    j*theta (an agent frees up, or someone ahead gives up) and is lost at rate theta
    (its own patience). Uniformization turns this into a Poisson-weighted sum over
    jumps of a discrete chain: exact up to a negligible Poisson tail."""
    top = service_rate + len(queue) * theta  # >= every position's total exit rate
    mean_jumps = top * target_s
    dist = list(queue)  # dist[j]: still waiting with j contacts ahead
    answered = 0.0  # answered within k jumps
    by_target = 0.0
    log_poisson, seen = -mean_jumps, 0.0
    for k in range(int(mean_jumps + 12 * math.sqrt(mean_jumps) + 30)):
        weight = math.exp(log_poisson)
        seen += weight
        by_target += weight * answered
        answered += dist[0] * service_rate / top
        moved = [0.0] * len(dist)
        for j, p in enumerate(dist):
            up = (service_rate + j * theta) / top
            if j:
                moved[j - 1] += p * up
            moved[j] += p * (1 - up - theta / top)
        dist = moved
        log_poisson += math.log(mean_jumps / (k + 1)) if mean_jumps > 0 else -math.inf
    by_target += (1 - seen) * answered
    return sum(queue) - by_target


def needed(traffic: float, aht_s: float, target_s: float, percent: float,
           patience_s: float | None = None) -> Staffing | None:
    """Fewest agents reaching `percent` service level: by Erlang A when a patience is
    given, by Erlang C otherwise. None when no traffic."""
    if traffic <= 0 or aht_s <= 0:
        return None
    goal = percent / 100
    # Served throughput is at most N/AHT, so SL <= N/A: no N below goal*A can do.
    start = max(1, math.ceil(goal * traffic)) if patience_s else max(1, math.floor(traffic) + 1)
    for n in range(start, MAX_AGENTS + 1):
        s = (erlang_a_staffing(n, traffic, aht_s, target_s, patience_s) if patience_s
             else erlang_c_staffing(n, traffic, aht_s, target_s))
        if s.service_level >= goal - 1e-12:
            return s
    return None
