"""Router replicas under load while things break; then the invariant checker judges.

Used by the fault suite (tests/faults/test_faults.py, a short run) and by `make chaos`
(`python -m tests.faults.chaos --seconds 300`, longer). It starts its own Kafka and Redis
(deploy/local/infra.py in a state dir of its own, so restarting them disturbs nothing
else) and N router processes exactly as `make up` runs them (`python -m services.router`,
one consumer group), then drives them the way a contact center does: contacts arrive on
Kafka, some customers leave while waiting, agents accept or decline each offer on any
live replica and complete after a hold time. Faults are injected by the pid this code
started: `kill -9` of replicas (restarted after), SIGSTOP longer than the Kafka session
timeout, a Redis restart (AOF), a broker restart, a replica joining mid-load. When the
traffic stops, it polls `tools.check_invariants` until every invariant holds or the
deadline passes, and returns the last report with the counts of what it went through.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError

from services.router.domain.invariants import Report
from shared import topics
from shared.cloudevents import InvalidEvent, decode, new_event
from shared.events import (
    DEFAULT_DOMAIN,
    ContactCreated,
    ContactEnded,
    Customer,
    event_type,
)
from shared.kafka import make_producer, publish
from tests.support.domains import policy_per_domain
from tools.check_invariants import check

REPO = Path(__file__).resolve().parents[2]
ADMIN = "chaos-admin-token"
INTENTS = ("general", "billing", "technical")
CHANNELS = ("chat", "chat", "email", "voice")
SESSION_TIMEOUT_S = 10  # aiokafka's default consumer session timeout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Replica:
    name: str
    port: int
    proc: subprocess.Popen | None = None
    paused: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def up(self) -> bool:
        return self.proc is not None and self.proc.poll() is None and not self.paused


@dataclass
class Tally:
    faults: Counter = field(default_factory=Counter)
    calls: Counter = field(default_factory=Counter)
    contacts: int = 0


class Chaos:
    def __init__(self, env: dict[str, str], infra_state: Path, logs: Path, infra_module,
                 domains: tuple[str, ...] = (DEFAULT_DOMAIN,)):
        self.env, self.state, self.logs, self.infra = env, infra_state, logs, infra_module
        self.domains = domains
        if domains != (DEFAULT_DOMAIN,):  # one policy file per domain, the same queues
            self.env = {**env, "OMNIROUTE_POLICY_FILE": str(policy_per_domain(logs / "policies", domains))}
        self.replicas: list[Replica] = []
        self.tally = Tally()
        self.tokens: dict[tuple[str, str], dict] = {}  # (domain, agent id) -> its auth header
        self.rng = random.Random(7)
        self._tasks: set[asyncio.Task] = set()
        self._seen: set[str] = set()
        self.clients: dict[str, httpx.AsyncClient] = {}
        self.offered_at: dict[str, list[float]] = {d: [] for d in domains}  # per domain: when each offer was decided

    # -- replicas -----------------------------------------------------------------------
    def _spawn(self, r: Replica) -> None:
        env = {**self.env, "PYTHONPATH": str(REPO), "OMNIROUTE_ROUTER_PORT": str(r.port),
               "OMNIROUTE_ADMIN_TOKEN": ADMIN, "OMNIROUTE_ROUTER_GROUP": "chaos-router",
               "OMNIROUTE_INSTANCE": f"{r.name}-{uuid.uuid4().hex[:6]}", "OMNIROUTE_REPLICA": r.name,
               "OMNIROUTE_LOG_LEVEL": "WARNING",
               "OMNIROUTE_PRESENCE_TIMEOUT_MS": "600000", "OMNIROUTE_TIMER_INTERVAL_MS": "100"}
        with open(self.logs / f"{r.name}.log", "a") as log:
            r.proc = subprocess.Popen([sys.executable, "-m", "services.router"], cwd=REPO, env=env,
                                      stdout=subprocess.DEVNULL, stderr=log)

    async def add_replica(self) -> Replica:
        r = Replica(f"router{len(self.replicas) + 1}", _free_port())
        self.replicas.append(r)
        self._spawn(r)
        await self._ready(r)
        return r

    async def _ready(self, r: Replica, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2, trust_env=False) as http:
            while time.monotonic() < deadline:
                if r.proc.poll() is not None:
                    raise RuntimeError(f"{r.name} exited: see {self.logs / (r.name + '.log')}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{r.url}/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.2)
        raise TimeoutError(f"{r.name} not ready")

    async def kill9(self, r: Replica, down_s: float = 1.0) -> None:
        r.proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(r.proc.wait)
        self.tally.faults["kill -9 replica"] += 1
        await asyncio.sleep(down_s)
        self._spawn(r)
        await self._ready(r)

    async def pause(self, r: Replica, seconds: float) -> None:
        r.paused = True
        r.proc.send_signal(signal.SIGSTOP)
        try:
            await asyncio.sleep(seconds)
        finally:
            r.proc.send_signal(signal.SIGCONT)
            r.paused = False
        self.tally.faults[f"SIGSTOP replica > session timeout ({seconds:.0f} s)"] += 1

    async def restart(self, name: str) -> None:
        await asyncio.to_thread(self.infra.restart, self.state, name)
        self.tally.faults[f"{name} restart"] += 1

    def stop_all(self) -> None:
        for r in self.replicas:
            if r.proc and r.proc.poll() is None:
                if r.paused:
                    r.proc.send_signal(signal.SIGCONT)
                r.proc.terminate()
                try:
                    r.proc.wait(15)
                except subprocess.TimeoutExpired:
                    r.proc.kill()

    # -- agents -------------------------------------------------------------------------
    async def call(self, method: str, path: str, headers: dict, **kw) -> int:
        """One API call on any live replica; another one when a replica is down."""
        for _ in range(60):
            live = [r for r in self.replicas if r.up] or self.replicas
            r = self.rng.choice(live)
            try:
                status = (await self._client(r).request(method, path, headers=headers, **kw)).status_code
            except httpx.HTTPError:
                self.tally.calls["connection error, retried"] += 1
                await asyncio.sleep(0.25)
                continue
            self.tally.calls[f"{method} {path.split('/')[2]} {status}"] += 1
            if status < 500:
                return status
            await asyncio.sleep(0.25)
        return 0

    def _client(self, r: Replica) -> httpx.AsyncClient:
        """One kept-alive client per replica (a restarted one keeps its port)."""
        if r.name not in self.clients:
            self.clients[r.name] = httpx.AsyncClient(base_url=r.url, timeout=10, trust_env=False)
        return self.clients[r.name]

    async def close_clients(self) -> None:
        for http in self.clients.values():
            await http.aclose()

    async def staff(self, n: int) -> None:
        """`n` agents, spread over the domains (the same ids in each)."""
        skills = {"support": 3, "billing": 3, "technical": 4}
        async with httpx.AsyncClient(base_url=self.replicas[0].url, timeout=10, trust_env=False) as http:
            for i in range(n):
                domain, aid = self.domains[i % len(self.domains)], f"agent{i // len(self.domains):02d}"
                admin = {"Authorization": f"Bearer {ADMIN}", "Omniroute-Domain": domain}
                r = await http.post("/v1/agents", headers=admin, json={
                    "id": aid, "name": aid, "skills": skills, "channels": ["chat", "email", "voice"],
                    "capacity": 100})
                r.raise_for_status()
                auth = self.tokens[(domain, aid)] = {"Authorization": f"Bearer {r.json()['token']}"}
                (await http.post(f"/v1/agents/{aid}/login", headers=auth)).raise_for_status()

    def _spawn_task(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _on_offer(self, offer_id: str, agent: tuple[str, str]) -> None:
        await asyncio.sleep(self.rng.uniform(0.05, 0.5))
        auth = self.tokens[agent]
        if self.rng.random() < 0.1:
            await self.call("POST", f"/v1/offers/{offer_id}/decline", auth, json={"reason": "busy"})
        else:
            await self.call("POST", f"/v1/offers/{offer_id}/accept", auth)

    async def _on_assigned(self, contact_id: str, agent: tuple[str, str]) -> None:
        await asyncio.sleep(self.rng.uniform(0.3, 2.0))
        await self.call("POST", f"/v1/contacts/{contact_id}/complete", self.tokens[agent],
                        json={"disposition": "chaos"})

    async def desktops(self, consumer: AIOKafkaConsumer) -> None:
        """The agents' side: act on offers and assignments as the events arrive."""
        async for record in consumer:
            with contextlib.suppress(InvalidEvent):
                e = decode(record.key, record.value, record.headers)
                if e.id in self._seen:
                    continue  # at-least-once: a republished event
                self._seen.add(e.id)
                if e.type == event_type("offer.issued") and e.routing_domain in self.offered_at:
                    self.offered_at[e.routing_domain].append(e.time.timestamp())  # the router's clock
                agent = (e.routing_domain, getattr(e.data, "agent_id", ""))
                if e.type == event_type("offer.issued") and agent in self.tokens:
                    self._spawn_task(self._on_offer(e.data.offer_id, agent))
                elif e.type == event_type("contact.assigned") and agent in self.tokens:
                    self._spawn_task(self._on_assigned(e.data.contact_id, agent))

    # -- customers ----------------------------------------------------------------------
    async def customers(self, rate: float, seconds: float) -> None:
        producer = make_producer(self.env["OMNIROUTE_KAFKA_BOOTSTRAP"])
        await producer.start()
        try:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                cid = f"c-{uuid.uuid4().hex[:12]}"
                data = ContactCreated(id=cid, channel=self.rng.choice(CHANNELS), intent=self.rng.choice(INTENTS),
                                      customer=Customer(id=f"cust-{self.rng.randrange(500)}", address="x"))
                domain = self.rng.choice(self.domains)
                await self._publish(producer, new_event(event_type("contact.created"), data,
                                                        source="chaos", key=cid, domain=domain))
                self.tally.contacts += 1
                if self.rng.random() < 0.05:  # the customer gives up
                    self._spawn_task(self._leave(producer, cid, domain))
                await asyncio.sleep(self.rng.expovariate(rate))
        finally:
            while self._tasks:
                await asyncio.sleep(0.1)
            await producer.stop()

    async def _leave(self, producer, cid: str, domain: str) -> None:
        await asyncio.sleep(self.rng.uniform(0.2, 3))
        await self._publish(producer, new_event(event_type("contact.ended"), ContactEnded(contact_id=cid),
                                                source="chaos", key=cid, domain=domain))

    async def _publish(self, producer, event) -> None:
        while True:  # a gateway keeps an event until Kafka has it (the broker may be restarting)
            try:
                return await publish(producer, event)
            except (KafkaError, TimeoutError):
                self.tally.calls["publish retried"] += 1
                await asyncio.sleep(0.5)


async def run(chaos: Chaos, *, replicas: int, agents: int, rate: float, seconds: float, kills: int,
              settle_s: float = 150, schedule=None) -> Report:
    """Load for `seconds` with the faults spread over it (`schedule(chaos, seconds)`, by
    default `faults`); then wait for the checker."""
    for _ in range(replicas):
        await chaos.add_replica()
    await chaos.staff(agents)
    consumer = AIOKafkaConsumer(topics.ROUTING, bootstrap_servers=chaos.env["OMNIROUTE_KAFKA_BOOTSTRAP"],
                                group_id=f"chaos-desktops-{uuid.uuid4().hex[:6]}", auto_offset_reset="earliest")
    await consumer.start()
    desk = asyncio.create_task(chaos.desktops(consumer))
    load = asyncio.create_task(chaos.customers(rate, seconds))
    try:
        if schedule is None:
            await faults(chaos, seconds, kills, replicas)
        else:
            await schedule(chaos, seconds)
        await load
        return await settle(chaos, settle_s)
    finally:
        desk.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await desk
        await consumer.stop()
        await chaos.close_clients()


async def faults(chaos: Chaos, seconds: float, kills: int, replicas: int) -> None:
    """The schedule: kills all along; a pause, a Redis restart, a broker restart and a new
    replica at fixed points of the run."""
    start = time.monotonic()
    at = lambda share: start + seconds * share
    events = sorted([(at(0.25), "pause"), (at(0.4), "redis"), (at(0.55), "kafka"), (at(0.7), "join")]
                    + [(at(0.05 + 0.85 * i / max(1, kills)), "kill") for i in range(kills)])
    originals = chaos.replicas[:replicas]
    pauses = set()
    for when, what in events:
        await asyncio.sleep(max(0.0, when - time.monotonic()))
        if what == "kill":
            live = [r for r in originals if r.up]
            await chaos.kill9(chaos.rng.choice(live), down_s=chaos.rng.uniform(0.2, 1.5))
        elif what == "pause":
            victim = originals[-1]
            pauses.add(asyncio.create_task(chaos.pause(victim, SESSION_TIMEOUT_S + 3)))
        elif what in ("redis", "kafka"):
            await chaos.restart(what)
        elif what == "join":
            await chaos.add_replica()
            chaos.tally.faults["replica joined mid-load"] += 1
    await asyncio.gather(*pauses)


async def settle(chaos: Chaos, timeout: float) -> Report:
    """Poll the checker until every invariant holds (in-flight work lands, stale outbox
    entries are claimed) or the deadline passes; the last report either way."""
    deadline = time.monotonic() + timeout
    kafka, redis = chaos.env["OMNIROUTE_KAFKA_BOOTSTRAP"], chaos.env["OMNIROUTE_REDIS_URL"]
    while True:
        report = Report.combined({d: await check(kafka, redis, domain=d) for d in chaos.domains})
        if report.ok and report.contacts >= chaos.tally.contacts or time.monotonic() > deadline:
            return report
        await asyncio.sleep(3)


def describe(chaos: Chaos, report: Report) -> str:
    faults = ", ".join(f"{n}× {k}" for k, n in sorted(chaos.tally.faults.items()))
    calls = ", ".join(f"{k}: {n}" for k, n in sorted(chaos.tally.calls.items()))
    return f"{report.summary()}\n  faults: {faults}\n  calls: {calls}"


@contextlib.contextmanager
def own_infra(infra_module, state: Path):
    env = infra_module.up(state)
    try:
        yield env
    finally:
        infra_module.down(state)


def main() -> int:
    from tests.infra import local_infra_module

    p = argparse.ArgumentParser(description="router replicas under load and faults, then the invariant checker")
    p.add_argument("--seconds", type=float, default=300)
    p.add_argument("--replicas", type=int, default=3)
    p.add_argument("--agents", type=int, default=20)
    p.add_argument("--rate", type=float, default=10, help="contacts per second")
    p.add_argument("--kills", type=int, default=40)
    p.add_argument("--domains", default=DEFAULT_DOMAIN, help="routing domains, comma-separated (one policy each)")
    args = p.parse_args()
    state, logs = REPO / ".omniroute" / "chaos-infra", REPO / ".omniroute" / "chaos-logs"
    logs.mkdir(parents=True, exist_ok=True)
    infra = local_infra_module()
    with own_infra(infra, state) as env:
        chaos = Chaos({**os.environ, **env}, state, logs, infra, tuple(args.domains.split(",")))
        try:
            report = asyncio.run(run(chaos, replicas=args.replicas, agents=args.agents, rate=args.rate,
                                     seconds=args.seconds, kills=args.kills))
        finally:
            chaos.stop_all()
    print(describe(chaos, report))
    for kind in ("lost", "double_assigned", "over_capacity", "disagreements"):
        for finding in getattr(report, kind)[:20]:
            print(f"  {kind}: {finding}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
