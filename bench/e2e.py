"""The router as users run it, measured end to end (`make bench-e2e`).

For each scenario: a fresh Redis database, the router process exactly as `make up`
starts it (`python -m services.router`: stats projector and report loop, desktop
feed, outbox relay, timers), simulated agents on the desktop's WebSocket in a process of
their own (bench/e2e_agents.py), Poisson contact traffic on Kafka and the baseline relay
(bench/e2e_traffic.py, bench/e2e_relay.py). Prints, per scenario: time-to-route
(contact.created sent -> offer.issued received) beside the baseline relay's latency at
the same rate on the same broker at the same time; the router's CPU-ms and Redis
commands (INFO commandstats, commands inside Lua scripts included) per contact; router
RSS; errors; the load generators' own CPU; /v1/stats latency. Then Redis memory per
10,000 agents and per 100,000 finished contacts.

Needs OMNIROUTE_KAFKA_BOOTSTRAP and OMNIROUTE_REDIS_URL (the Makefile target starts a
Kafka and Redis of its own for it).

    python bench/e2e.py [--scenarios 200x20,2000x50,5000x50,burst] [--duration 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx
from redis import Redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.e2e_memory import memory_report  # noqa: E402
from tests.support.domains import policy_per_domain  # noqa: E402

T = TypeVar("T")

ADMIN = "bench-admin-token"
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class RedisNodes:
    """The benchmark's view of Redis: one server, or the primaries of a cluster
    (`redis+cluster://host:port,...`, every node listed)."""

    def __init__(self, url: str):
        if "+cluster://" in url:
            hosts = url.split("://", 1)[1].split(",")
            self.nodes = [Redis(host=h.rsplit(":", 1)[0], port=int(h.rsplit(":", 1)[1])) for h in hosts]
        else:
            self.nodes = [Redis.from_url(url)]

    def primaries(self) -> list[Redis]:
        return [n for n in self.nodes if n.info("replication")["role"] == "master"]

    def flushdb(self) -> None:
        for node in self.primaries():
            node.flushdb()

    def cpu_s(self) -> float:
        """CPU seconds the primaries' Redis processes have used so far."""
        return sum(float(i["used_cpu_user"]) + float(i["used_cpu_sys"]) for i in (n.info("cpu") for n in self.primaries()))

    def calls(self) -> dict[str, int]:
        """Calls per command so far on the primaries (commands inside Lua scripts included)."""
        out: dict[str, int] = {}
        for node in self.primaries():
            for k, v in node.info("commandstats").items():
                if k.startswith("cmdstat_"):
                    name = k.removeprefix("cmdstat_")
                    out[name] = out.get(name, 0) + v["calls"]
        return out


def per_contact(before: dict[str, int], after: dict[str, int], contacts: int) -> tuple[float, dict[str, float]]:
    """Redis commands per contact in all, and the commands that make most of them."""
    delta = {k: after[k] - before.get(k, 0) for k in after if after[k] - before.get(k, 0) > 0}
    top = dict(sorted(((k, round(v / contacts, 1)) for k, v in delta.items()), key=lambda kv: -kv[1])[:12])
    return round(sum(delta.values()) / contacts, 1), top


class Proc:
    """A child process speaking JSON lines on stdout and taking commands on stdin."""

    def __init__(self, *cmd: str, env=None, log: Path | None = None):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=open(log, "w") if log else subprocess.DEVNULL, env=env, cwd=ROOT, text=True)

    def expect(self, event: str, timeout: float = 600) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.p.stdout.readline()
            if not line:
                raise RuntimeError(f"{self.p.args[1]} exited ({self.p.poll()}) before {event!r}")
            if line.startswith("{"):
                msg = json.loads(line)
                if msg.get("event") == event:
                    return msg
            elif line.strip() == event:
                return {}
        raise TimeoutError(event)

    def send(self, line: str) -> None:
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()


def start_router(env: dict, port: int, logs: Path, root: Path, name: str = "router") -> subprocess.Popen:
    env = {**env, "PYTHONPATH": str(root), "OMNIROUTE_ROUTER_PORT": str(port), "OMNIROUTE_REPLICA": name,
           "OMNIROUTE_INSTANCE": f"{name}-{uuid.uuid4().hex[:6]}"}
    router = subprocess.Popen([sys.executable, "-m", "services.router"], cwd=root, env=env,
                              stdout=subprocess.DEVNULL, stderr=open(logs / f"{name}.log", "w"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return router
        except httpx.HTTPError:
            pass
        if router.poll() is not None:
            raise RuntimeError("router exited: " + (logs / f"{name}.log").read_text()[-2000:])
        time.sleep(0.2)
    raise TimeoutError("router not ready")


def with_crew(crew: Proc, router: subprocess.Popen, work: Callable[[], T]) -> T:
    """`work()` once the simulated agents are signed in; then the agents stop and print
    their totals, and the router stops, whatever happened."""
    try:
        crew.expect("ready")
        result = work()
        crew.send("stop")
        crew.expect("done", 60)
        return result
    finally:
        crew.stop()
        router.terminate()
        router.wait(20)


def gc_pauses(url: str) -> dict:
    """The router's garbage-collector pauses so far: count, and over 50 ms / 250 ms."""
    text = httpx.get(f"{url}/metrics", follow_redirects=True, timeout=10).text
    counts = {"n": 0, "over_50ms": 0, "over_250ms": 0}
    for line in text.splitlines():
        if line.startswith("omniroute_gc_pause_seconds_count"):
            counts["n"] += int(float(line.split()[-1]))
        for le, name in (("0.05", "over_50ms"), ("0.25", "over_250ms")):
            if line.startswith("omniroute_gc_pause_seconds_bucket") and f'le="{le}"' in line:
                counts[name] -= int(float(line.split()[-1]))
    counts["over_50ms"] += counts["n"]
    counts["over_250ms"] += counts["n"]
    return counts


async def stats_latency(url: str, domain: str, samples: int = 10) -> dict:
    """GET /v1/stats (of one domain) and the ops page while the load runs: ms per answer."""
    ms, pages = [], []
    async with httpx.AsyncClient(base_url=url, timeout=10, trust_env=False) as http:
        for _ in range(samples):
            t = time.perf_counter()
            r = await http.get("/v1/stats", headers={"Authorization": f"Bearer {ADMIN}", "Omniroute-Domain": domain})
            ms.append((time.perf_counter() - t) * 1000 if r.status_code == 200 else float("inf"))
            t = time.perf_counter()
            r = await http.get("/ops")
            pages.append((time.perf_counter() - t) * 1000 if r.status_code == 200 else float("inf"))
            await asyncio.sleep(0.5)
    return {"stats_max_ms": round(max(ms), 1), "ops_page_max_ms": round(max(pages), 1)}


def scenario(name: str, agents: int, rate: float, args, base_env: dict, redis: RedisNodes, logs: Path,
             replicas: int = 1, domains: tuple[str, ...] = ("default",)) -> dict:
    """One scenario on `replicas` router processes (agents and their desktops spread over
    them) serving `domains` (contacts and agents spread over them)."""
    redis.flushdb()
    env = {**base_env, "OMNIROUTE_ADMIN_TOKEN": ADMIN,
           "OMNIROUTE_ROUTER_GROUP": f"bench-{uuid.uuid4().hex[:8]}", "OMNIROUTE_OFFSET_RESET": "latest",
           "OMNIROUTE_LOG_LEVEL": "WARNING"}
    if domains != ("default",):
        env["OMNIROUTE_POLICY_FILE"] = str(policy_per_domain(logs / "policies", domains))
    ports = [free_port() for _ in range(replicas)]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    url = urls[0]
    burst = name == "burst"
    routers = [start_router(env, port, logs, Path(args.router_root), f"router{i + 1}") for i, port in enumerate(ports)]
    router_cpu = lambda: sum(cpu_s(r.pid) for r in routers)  # noqa: E731
    procs = []
    try:
        relay = Proc(sys.executable, "bench/e2e_relay.py", "--bootstrap", env["OMNIROUTE_KAFKA_BOOTSTRAP"],
                     "--group", f"bench-relay-{uuid.uuid4().hex[:6]}", env=env, log=logs / "relay.log")
        procs.append(relay)
        relay.expect("ready", 60)
        agent_args = ["--router", ",".join(urls), "--domains", ",".join(domains), "--admin-token", ADMIN,
                      "--agents", str(agents),
                      "--connections", str(args.agent_connections),
                      "--hold", str(0.5 if burst else args.hold)] + (["--not-ready"] if burst else [])
        crew = Proc(sys.executable, "bench/e2e_agents.py", *agent_args, env=env, log=logs / "agents.log")
        procs.append(crew)
        setup = crew.expect("ready")
        cpu0 = router_cpu()
        time.sleep(args.idle)  # agents signed in, heartbeating, no traffic yet
        idle_pct = round((router_cpu() - cpu0) * 100 / args.idle, 1)
        traffic_args = ["--bootstrap", env["OMNIROUTE_KAFKA_BOOTSTRAP"], "--rate", str(rate), "--domains", ",".join(domains),
                        "--warmup", str(args.warmup), "--duration", str(args.duration)]
        if burst:
            traffic_args += ["--burst", str(args.burst)]
        traffic = Proc(sys.executable, "bench/e2e_traffic.py", *traffic_args, env=env, log=logs / "traffic.log")
        procs.append(traffic)
        traffic.expect("ready", 60)
        out = {"scenario": name, "agents": agents, "rate": rate, "setup_s": setup["setup_s"], "idle_cpu_pct": idle_pct,
               "replicas": replicas, "domains": len(domains), "redis_primaries": len(redis.primaries())}
        if burst:
            queued = traffic.expect("all_queued", 600)
            cpu0, calls0 = router_cpu(), redis.calls()
            crew.send("free")
            traffic.send("go")
            result = traffic.expect("done", 900)
            n = max(1, result["offered"])
            total, top = per_contact(calls0, redis.calls(), n)
            out |= {"queued": queued["queued"], "router_cpu_ms_per_contact":
                    round((router_cpu() - cpu0) * 1000 / n, 2), "redis_cmds_per_contact": total, "redis_top": top}
        else:
            traffic.expect("window_start", 120)
            crew.send("mark")
            cpu0, calls0, t0, redis_cpu0 = router_cpu(), redis.calls(), time.monotonic(), redis.cpu_s()
            relay_cpu0 = cpu_s(relay.p.pid)
            probe = asyncio.run(stats_latency(url, domains[0]))
            traffic.expect("window_end", args.duration + 120)
            cpu, calls, window = router_cpu() - cpu0, redis.calls(), time.monotonic() - t0
            redis_cpu = redis.cpu_s() - redis_cpu0
            relay_cpu = cpu_s(relay.p.pid) - relay_cpu0
            result = traffic.expect("done", 300)
            n = max(1, result["contacts"])
            total, top = per_contact(calls0, calls, n)
            out |= probe | {"router_cpu_ms_per_contact": round(cpu * 1000 / n, 2),
                            "relay_cpu_ms_per_record": round(relay_cpu * 1000 / max(1, result["relay_ms"]["n"]), 2),
                            "router_cpu_pct": round(cpu * 100 / window, 1),
                            "redis_cmds_per_contact": total, "redis_top": top,
                            "redis_cpu_ms_per_contact": round(redis_cpu * 1000 / n, 2)}
        out |= {k: v for k, v in result.items() if k != "event"}
        out["router_rss_mb"] = round(sum(rss_mb(r.pid) for r in routers), 1)
        out["gc_pauses"] = gc_pauses(url)
        crew.send("stop")
        done = crew.expect("done", 60)
        out["agents_cpu_s"], out["agents_elapsed_s"] = done["cpu_s"], done["elapsed_s"]
        counts = done["counts"]
        out["http_errors"] = {k: v for k, v in counts.items() if not k.split()[-1].startswith("2")
                              and not k.startswith("heartbeat")}
        out["heartbeats"] = {k: v for k, v in counts.items() if k.startswith("heartbeat")}
        return out
    finally:
        for proc in procs:
            proc.stop()
        for router in routers:
            router.terminate()
        for router in routers:
            router.wait(20)


def show(r: dict) -> None:
    print(f"\n== {r['scenario']}: {r['agents']} agents" + ("" if r["scenario"] == "burst" else f", {r['rate']}/s"))
    if r["scenario"] == "burst":
        print(f"  {r['queued']} queued, then all agents free: {r['offered']} offered in {r['drain_s']} s = "
              f"{r['decisions_per_s']} decisions/s (per second min/median/max {r['per_second_min_median_max']}; "
              f"first seconds {r['first_seconds']})")
    else:
        t, b = r["time_to_route_ms"], r["relay_ms"]
        print(f"  time to route ms   p50 {t.get('p50')}  p90 {t.get('p90')}  p99 {t.get('p99')}  max {t.get('max')}"
              f"  (n={t['n']}, unrouted {r['unrouted']})")
        print(f"  baseline relay ms  p50 {b.get('p50')}  p90 {b.get('p90')}  p99 {b.get('p99')}  max {b.get('max')}"
              f"  (n={b['n']}, lost {r['relay_lost']})   p99 ratio {round(t.get('p99', 0) / max(b.get('p99', 1), 1e-9), 2)}")
        print(f"  /v1/stats max {r['stats_max_ms']} ms, /ops max {r['ops_page_max_ms']} ms; "
              f"router CPU {r['router_cpu_pct']} % of a core; baseline relay {r['relay_cpu_ms_per_record']} CPU-ms/record "
              f"(router/relay {round(r['router_cpu_ms_per_contact'] / max(r['relay_cpu_ms_per_record'], 1e-9), 1)}x)")
    print(f"  router: {r['router_cpu_ms_per_contact']} CPU-ms/contact, {r['redis_cmds_per_contact']} Redis cmds/contact"
          + (f" ({r['redis_cpu_ms_per_contact']} Redis CPU-ms)" if "redis_cpu_ms_per_contact" in r else "") + ", "
          f"RSS {r['router_rss_mb']} MB; GC pauses {r['gc_pauses']}")
    print(f"  Redis commands per contact, most: {r['redis_top']}")
    print(f"  load generators: agents {r['agents_cpu_s']} CPU-s over {r['agents_elapsed_s']} s"
          + (f", traffic {r['cpu_s']} CPU-s over the {r['window_s']} s window" if "window_s" in r else ""))
    print(f"  errors: {r['http_errors'] or 'none'}; heartbeats {r['heartbeats']}; setup {r['setup_s']} s; "
          f"router CPU with agents alone (heartbeats, loops) {r['idle_cpu_pct']} % of a core")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--scenarios", default="200x20,2000x50,5000x50,burst")
    p.add_argument("--duration", type=float, default=30)
    p.add_argument("--warmup", type=float, default=10)
    p.add_argument("--hold", type=float, default=5.0, help="mean handle time, seconds")
    p.add_argument("--idle", type=float, default=10, help="seconds of agents alone (heartbeats) before traffic")
    p.add_argument("--burst", type=int, default=10_000, help="contacts queued in the burst scenario")
    p.add_argument("--burst-agents", type=int, default=1_000)
    p.add_argument("--agent-connections", type=int, default=50, help="the agents' HTTP connections to the router")
    p.add_argument("--memory", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--json", help="also write the results here")
    p.add_argument("--router-root", default=str(ROOT),
                   help="run the router from this checkout (compare before/after on one machine)")
    args = p.parse_args()
    env = dict(os.environ)
    for name in ("OMNIROUTE_KAFKA_BOOTSTRAP", "OMNIROUTE_REDIS_URL"):
        if not env.get(name):
            print(f"{name} is not set (make bench-e2e starts Kafka and Redis and sets it)", file=sys.stderr)
            return 2
    redis = RedisNodes(env["OMNIROUTE_REDIS_URL"])
    logs = ROOT / ".omniroute" / "bench-e2e-logs"
    logs.mkdir(parents=True, exist_ok=True)
    results = []
    for spec in args.scenarios.split(","):
        if spec == "burst":
            r = scenario("burst", args.burst_agents, 0, args, env, redis, logs)
        else:
            agents, rate = spec.split("x")
            r = scenario(spec, int(agents), float(rate), args, env, redis, logs)
        show(r)
        results.append(r)
    if args.memory:
        redis.flushdb()
        mem = memory_report(env["OMNIROUTE_REDIS_URL"])
        print(f"\n== Redis memory: {mem['per_10k_agents_mb']} MB per 10,000 agents, "
              f"{mem['per_100k_finished_mb']} MB per 100,000 finished contacts (within retention), "
              f"{mem['after_retention_mb']} MB of them left after the retention period "
              f"({mem['dedupe_markers_left']} event dedupe markers, which live OMNIROUTE_DEDUPE_TTL_S)")
        results.append({"scenario": "memory", **mem})
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
