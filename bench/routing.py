"""Routing decision latency at 500, 5,000 and 50,000 agents with as many waiting contacts.

Runs the router's real Lua transitions against a redis-server of its own (or the one in
OMNIROUTE_BENCH_REDIS_URL, which it FLUSHES). For each size: agents with skills in a few
of 10 queues (two steps each) are all busy with a contact and as many contacts wait;
then each round measures, as seen by the client (one round trip each):
  free   an agent completes a contact and pulls the best waiting one across its queues
  accept the agent accepts that offer
  arrive a new contact arrives and looks at the head of its pool (and waits)
and prints p50/p99 per decision and overall. Work per decision is O(log n), so p99 at
50,000 should stay within 2x of p99 at 500.

    python bench/routing.py [--sizes 500,5000,50000] [--rounds 3000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from redis import Redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.router.adapters.keys import POLICY as POLICY_KEY  # noqa: E402
from services.router.adapters.keys import key, script_keys  # noqa: E402
from services.router.adapters.store import SCRIPTS, script_source  # noqa: E402
from shared.policy import Policy, qualifications  # noqa: E402

QUEUES = [f"q{i}" for i in range(10)]
POLICY = Policy.model_validate({
    "channels": {"chat": {"cost": 34}},
    "tiers": {"basic": 0, "enhanced": 60, "premium": 180},
    "tier_neutral_intents": ["complaint"],
    "default_queue": "q0",
    "queues": {q: {"channels": ["chat"], "steps": [
        {"skills": [{"skill": q, "min_level": 3}], "timeout_s": 30},
        {"skills": [{"skill": q, "min_level": 1}]}]} for q in QUEUES},
})
BATCH = 500


class Lua:
    def __init__(self, redis: Redis):
        self.scripts = {n: redis.register_script(script_source(n)) for n in SCRIPTS}

    def __call__(self, name: str, *args, client=None):
        return self.scripts[name](keys=script_keys(), args=["", *args], client=client)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis() -> tuple[subprocess.Popen, str, str]:
    exe = shutil.which("redis-server")
    if not exe:
        sys.exit("redis-server not found: install it or set OMNIROUTE_BENCH_REDIS_URL")
    workdir = tempfile.mkdtemp(prefix="omniroute-bench-")
    port = free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", workdir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            Redis.from_url(url).ping()
            return proc, url, workdir
        except Exception:
            time.sleep(0.05)
    proc.kill()
    sys.exit("redis-server did not start")


def contact_spec(rng: random.Random, queue: str) -> str:
    tier = rng.choice(["basic", "basic", "enhanced", "premium"])
    intent = "complaint" if rng.random() < 0.1 else "general"
    return json.dumps({"channel": "chat", "queue": queue, "tier": tier, "intent": intent, "customer_id": "x",
                       "offset_ms": POLICY.priority_offset_ms(tier, intent), "skills": [], "data": "{}"})


def setup(redis: Redis, lua: Lua, n: int, rng: random.Random) -> dict[str, str]:
    """n busy agents, n waiting contacts. Returns agent -> the contact it holds."""
    redis.flushdb()
    redis.set(POLICY_KEY, json.dumps(POLICY.compile_for_redis()))
    for start in range(0, n, BATCH):
        pipe = redis.pipeline(transaction=False)
        for i in range(start, min(n, start + BATCH)):
            skills = {q: rng.randint(1, 5) for q in rng.sample(QUEUES, 3)}
            profile = {"name": f"a{i}", "capacity": 34, "channels": ["chat"], "skills": skills,
                       "sip_uri": "", "quals": qualifications(POLICY, skills)}
            lua("upsert_agent", f"a{i}", json.dumps(profile), client=pipe)
            lua("set_agent_state", f"a{i}", "available", "", "", client=pipe)
        pipe.execute()
    for start in range(0, 2 * n, BATCH):  # the first ~n go to agents, the rest wait
        pipe = redis.pipeline(transaction=False)
        for i in range(start, min(2 * n, start + BATCH)):
            lua("enqueue_contact", key("seen", "b", i), f"c{i}", contact_spec(rng, rng.choice(QUEUES)), client=pipe)
        pipe.execute()
    held = {}
    for start in range(0, n, BATCH):  # accept every offer: all agents busy
        ids = [f"a{i}" for i in range(start, min(n, start + BATCH))]
        pipe = redis.pipeline(transaction=False)
        for aid in ids:
            pipe.smembers(key("agent_offers", aid))
        offers = pipe.execute()
        pipe = redis.pipeline(transaction=False)
        for aid, oids in zip(ids, offers):
            for oid in oids:
                lua("accept_offer", oid.decode(), aid, client=pipe)
                held[aid] = redis.hget(key("offer", oid.decode()), "contact").decode()
        pipe.execute()
    return held


def waiting(redis: Redis) -> int:
    return sum(redis.zcard(key("wait", q, s, "chat")) for q in QUEUES for s in (0, 1))


def timed(fn, *args) -> tuple[float, object]:
    t0 = time.perf_counter()
    res = fn(*args)
    return (time.perf_counter() - t0) * 1e6, res


def measure(redis: Redis, lua: Lua, held: dict[str, str], rounds: int, rng: random.Random) -> dict[str, list[float]]:
    lat: dict[str, list[float]] = {"free": [], "accept": [], "arrive": []}
    busy = list(held)
    seq = 0
    for _ in range(rounds):
        aid = rng.choice(busy)
        us, _ = timed(lua, "complete_contact", held.pop(aid), aid, "")
        lat["free"].append(us)
        oids = redis.smembers(key("agent_offers", aid))
        if oids:
            oid = oids.pop().decode()
            held[aid] = redis.hget(key("offer", oid), "contact").decode()
            us, _ = timed(lua, "accept_offer", oid, aid)
            lat["accept"].append(us)
        else:
            busy.remove(aid)
        seq += 1
        us, _ = timed(lua, "enqueue_contact", key("seen", "m", seq), f"m{seq}", contact_spec(rng, rng.choice(QUEUES)))
        lat["arrive"].append(us)
        if redis.hget(key("contact", f"m{seq}"), "state") == b"offered":
            # an idle agent took it at once: accept so every agent stays busy
            o = redis.hgetall(key("offer", redis.hget(key("contact", f"m{seq}"), "offer").decode()))
            a = o[b"agent"].decode()
            lua("accept_offer", redis.hget(key("contact", f"m{seq}"), "offer").decode(), a)
            held[a] = f"m{seq}"
            if a not in busy:
                busy.append(a)
    return lat


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="500,5000,50000")
    ap.add_argument("--rounds", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    url = os.environ.get("OMNIROUTE_BENCH_REDIS_URL")
    proc = workdir = None
    if not url:
        proc, url, workdir = start_redis()
    try:
        redis = Redis.from_url(url)
        lua = Lua(redis)
        rows = []
        for n in (int(s) for s in args.sizes.split(",")):
            rng = random.Random(args.seed)
            t0 = time.monotonic()
            held = setup(redis, lua, n, rng)
            print(f"# {n} agents: {len(held)} busy, {waiting(redis)} contacts waiting "
                  f"(setup {time.monotonic() - t0:.1f}s)", flush=True)
            lat = measure(redis, lua, held, args.rounds, rng)
            allv = [v for vs in lat.values() for v in vs]
            rows.append((n, {k: (pct(v, 50), pct(v, 99)) for k, v in lat.items()}, (pct(allv, 50), pct(allv, 99))))
        print()
        print("decision latency in microseconds (client round trip to a local redis-server)")
        print(f"{'agents':>7} {'waiting':>8} | {'free+pull p50':>13} {'p99':>7} | {'accept p50':>10} {'p99':>7} | "
              f"{'arrive p50':>10} {'p99':>7} | {'all p50':>7} {'p99':>7}")
        for n, per, (p50, p99) in rows:
            print(f"{n:>7} {n:>8} | {per['free'][0]:>13.0f} {per['free'][1]:>7.0f} | {per['accept'][0]:>10.0f} "
                  f"{per['accept'][1]:>7.0f} | {per['arrive'][0]:>10.0f} {per['arrive'][1]:>7.0f} | {p50:>7.0f} {p99:>7.0f}")
        ratio = rows[-1][2][1] / rows[0][2][1]
        print(f"\np99 at {rows[-1][0]} agents / p99 at {rows[0][0]} agents = {ratio:.2f} (target <= 2)")
        return 0
    finally:
        if proc:
            proc.terminate()
            proc.wait(10)
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
