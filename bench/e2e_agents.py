"""Simulated agents for `make bench-e2e`, in a process of their own: each agent is
created through the admin API, keeps the desktop's WebSocket open (auth frame, then a
heartbeat frame every 10 s, as desktop.js does), accepts each offer pushed to it and
completes the contact after an exponentially distributed hold time.

With several routers (replicas) or routing domains, agent i uses router i mod R and
belongs to domain i mod D.

With `--truths FILE` (bench/best_outcome.py) each agent has a hidden true CSAT and mean
handle time per intent ({agent id: {intent: [csat, handle_s]}}): it holds a contact for
that intent's handle time, and the customer answers the survey (the router's survey
page, a link signed with OMNIROUTE_SURVEY_SECRET) with a score drawn around that CSAT.

Reads commands on stdin (`free`: every agent becomes available; `away N`: the first N
go not_ready on a break; `back I`: the I-th (from 0) becomes available; `stop`: print
the totals as one JSON line and exit) and prints `ready` once every agent is signed in.

    python bench/e2e_agents.py --router http://127.0.0.1:8080[,http://...] --agents 200 --hold 5 [--domains a,b]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shared.survey import survey_token  # noqa: E402

HEARTBEAT_S = 10.0
SKILLS = {"support": 3, "billing": 3}


class Agents:
    def __init__(self, args):
        self.args = args
        self.routers, self.domains = args.router.split(","), args.domains.split(",")
        limits = httpx.Limits(max_connections=args.connections, max_keepalive_connections=args.connections)
        self.http = [httpx.AsyncClient(base_url=url, limits=limits, timeout=30, trust_env=False) for url in self.routers]
        self.tokens: dict[str, dict] = {}
        self.home: dict[str, int] = {}  # agent id -> its index (router and domain)
        self.counts: Counter = Counter()
        self.tasks: set[asyncio.Task] = set()
        self.gate = asyncio.Semaphore(args.connections)
        self.truths: dict[str, dict[str, list[float]]] = json.loads(Path(args.truths).read_text()) if args.truths else {}

    async def call(self, method: str, path: str, headers: dict, agent_id: str, **kw) -> httpx.Response | None:
        http = self.http[self.home[agent_id] % len(self.http)]
        async with self.gate:
            try:
                r = await http.request(method, path, headers=headers, **kw)
            except httpx.HTTPError as exc:
                self.counts[f"http_error:{type(exc).__name__}"] += 1
                return None
        self.counts[f"{method} {path.split('/')[2 if path.startswith('/v1/') else 1]} {r.status_code}"] += 1
        return r

    async def create(self, agent_id: str, i: int) -> None:
        self.home[agent_id] = i
        admin = {"Authorization": f"Bearer {self.args.admin_token}",
                 "Omniroute-Domain": self.domains[i % len(self.domains)]}
        body = {"id": agent_id, "name": agent_id, "skills": SKILLS, "channels": ["chat", "email", "voice"],
                "capacity": 100}
        r = await self.call("POST", "/v1/agents", admin, agent_id, json=body)
        if r is None or r.status_code != 201:
            raise RuntimeError(f"creating {agent_id}: {r and r.text}")
        self.tokens[agent_id] = {"Authorization": f"Bearer {r.json()['token']}"}

    async def desktop(self, agent_id: str, ready: asyncio.Event) -> None:
        """The desktop's socket: auth, then heartbeats; offers are answered as they arrive."""
        auth = self.tokens[agent_id]
        router = self.routers[self.home[agent_id] % len(self.routers)]
        url = router.replace("http", "ws", 1) + f"/v1/agents/{agent_id}/stream"
        async with websockets.connect(url, ping_interval=None, max_queue=None) as ws:
            await ws.send(json.dumps({"type": "auth", "token": auth["Authorization"].split()[1]}))
            json.loads(await ws.recv())  # the snapshot
            if self.args.not_ready:
                r = await self.call("PUT", f"/v1/agents/{agent_id}/state", auth, agent_id, json={"state": "not_ready"})
            else:
                r = await self.call("POST", f"/v1/agents/{agent_id}/login", auth, agent_id)
            if r is None or r.status_code != 200:
                raise RuntimeError(f"signing in {agent_id}: {r and r.text}")
            ready.set()
            beat = asyncio.create_task(self._heartbeats(ws))
            try:
                async for raw in ws:
                    frame = json.loads(raw)
                    if frame["type"] == "offer":
                        self._spawn(self._work(agent_id, frame))
                    elif frame["type"] == "heartbeat":
                        self.counts[f"heartbeat {frame['result']}"] += 1
            finally:
                beat.cancel()

    async def _heartbeats(self, ws) -> None:
        await asyncio.sleep(random.uniform(0, HEARTBEAT_S))  # spread, as real desktops are
        while True:
            await ws.send('{"type": "heartbeat"}')
            await asyncio.sleep(HEARTBEAT_S)

    async def _work(self, agent_id: str, offer: dict) -> None:
        auth = self.tokens[agent_id]
        r = await self.call("POST", f"/v1/offers/{offer['offer_id']}/accept", auth, agent_id)
        if r is None or r.status_code != 200:
            return
        intent = (offer.get("contact") or {}).get("intent", "general")
        csat, hold = self.truths.get(agent_id, {}).get(intent, (None, self.args.hold))
        await asyncio.sleep(random.expovariate(1 / hold) if hold > 0 else 0)
        await self.call("POST", f"/v1/contacts/{offer['contact_id']}/complete", auth, agent_id,
                        json={"disposition": "bench"})
        if csat is not None and random.random() < self.args.survey_rate:
            await self.survey(agent_id, offer["contact_id"], csat)

    async def survey(self, agent_id: str, contact_id: str, csat: float) -> None:
        """The customer answers: a score around the agent's true CSAT for the intent."""
        score = min(5, max(1, round(random.gauss(csat, 0.7))))
        token = survey_token(self.args.survey_secret, contact_id, self.domains[self.home[agent_id] % len(self.domains)])
        await self.call("POST", f"/survey/{contact_id}", {}, agent_id, json={"t": token, "score": score})

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def away(self, n: int) -> None:
        await asyncio.gather(*(self.call("PUT", f"/v1/agents/{a}/state", auth, a,
                                         json={"state": "not_ready", "reason": "break"})
                               for a, auth in list(self.tokens.items())[:n]))

    async def back(self, i: int) -> None:
        agent_id, auth = list(self.tokens.items())[i]
        await self.call("PUT", f"/v1/agents/{agent_id}/state", auth, agent_id, json={"state": "available"})

    async def free_all(self) -> None:
        await asyncio.gather(*(self.call("PUT", f"/v1/agents/{a}/state", auth, a, json={"state": "available"})
                               for a, auth in self.tokens.items()))


async def commands() -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def main(args) -> None:
    agents = Agents(args)
    ids = [f"{args.prefix}-{i:05d}" for i in range(args.agents)]
    started = time.monotonic()
    for i in range(0, len(ids), 200):
        await asyncio.gather(*(agents.create(a, i + j) for j, a in enumerate(ids[i:i + 200])))
    readies = []
    for i in range(0, len(ids), 200):  # sign in in waves, as a shift starts
        wave = [asyncio.Event() for _ in ids[i:i + 200]]
        for agent_id, ready in zip(ids[i:i + 200], wave, strict=True):
            agents._spawn(agents.desktop(agent_id, ready))
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in wave)), 120)
        readies += wave
    print(json.dumps({"event": "ready", "agents": len(ids), "setup_s": round(time.monotonic() - started, 1)}),
          flush=True)
    cpu0, t0 = cpu_s(), time.monotonic()
    reader = await commands()
    while line := (await reader.readline()).decode().strip():
        if line == "mark":  # the measurement window starts: count CPU from here
            cpu0, t0 = cpu_s(), time.monotonic()
        elif line == "free":
            await agents.free_all()
            print(json.dumps({"event": "freed"}), flush=True)
        elif line.startswith("away "):  # the first N agents leave (not_ready): staffing drops
            await agents.away(int(line.split()[1]))
            print(json.dumps({"event": "away"}), flush=True)
        elif line.startswith("back "):  # one agent is back from a break
            await agents.back(int(line.split()[1]))
        elif line == "stop":
            break
    elapsed = time.monotonic() - t0
    print(json.dumps({"event": "done", "cpu_s": round(cpu_s() - cpu0, 2), "elapsed_s": round(elapsed, 1),
                      "counts": dict(agents.counts)}), flush=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--router", required=True, help="router URL(s), comma-separated")
    p.add_argument("--domains", default="default", help="routing domains, comma-separated")
    p.add_argument("--admin-token", default="bench-admin-token")
    p.add_argument("--agents", type=int, default=200)
    p.add_argument("--hold", type=float, default=5.0, help="mean handle time in seconds")
    p.add_argument("--prefix", default="ag")
    p.add_argument("--connections", type=int, default=50, help="HTTP connections to the router")
    p.add_argument("--not-ready", action="store_true", help="sign in not_ready (the burst scenario)")
    p.add_argument("--truths", help="JSON: each agent's true CSAT and handle time per intent")
    p.add_argument("--survey-rate", type=float, default=1.0, help="share of customers answering the survey")
    p.add_argument("--seed", type=int, help="seed the handle times (and surveys): the same draws each run")
    p.add_argument("--survey-secret", default="dev-survey-secret", help="OMNIROUTE_SURVEY_SECRET of the router")
    args = p.parse_args()
    random.seed(args.seed)
    asyncio.run(main(args))
