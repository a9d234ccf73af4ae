"""A routing world on the real Redis with an injected clock: drive transitions and
timers deterministically, read the events the transitions wrote to the outbox."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from services.router.adapters.keys import OUTBOX
from services.router.adapters.store import RoutingStore
from services.router.domain.commands import RouteEvent
from services.router.handlers import HANDLERS
from services.router.handlers.deps import PolicyState, RouterDeps
from services.router.messagebus import MessageBus
from services.router.settings import RouterSettings
from shared.cloudevents import new_event
from shared.events import ContactCreated, Customer, event_type
from shared.policy import Policy, qualifications
from shared.redis_client import is_cluster
from shared.sockets import SocketHub

POLICY_FILE = Path(__file__).with_name("policy.yaml")
START_MS = 1_000_000_000


def routing_policy(**overrides) -> Policy:
    raw = yaml.safe_load(POLICY_FILE.read_text())
    raw.update(overrides)
    return Policy.model_validate(raw)


def db_url(url: str, db: int) -> str:
    """The same server, another database: routing tests never touch others' data (a
    Redis Cluster has only database 0: there the tests flush it)."""
    if is_cluster(url):
        return url
    base, _, last = url.rpartition("/")
    return f"{base}/{db}" if last.isdigit() else f"{url.rstrip('/')}/{db}"


@dataclass
class Clock:
    now: int = START_MS

    def __call__(self) -> int:
        return self.now


def routing_bus(store: RoutingStore, policy: Policy) -> MessageBus:
    """The router's bus over `store` alone (no Kafka): what the consumer would call."""
    deps = RouterDeps(settings=RouterSettings(), store=store, policy=PolicyState(policy, POLICY_FILE),
                      publisher=None, desks=SocketHub())
    return MessageBus(deps, HANDLERS)


@dataclass
class World:
    state: RoutingStore
    policy: Policy
    clock: Clock
    seen: str = "0-0"
    log: list[tuple[str, dict]] = field(default_factory=list)

    @property
    def redis(self):
        return self.state.redis

    @property
    def bus(self) -> MessageBus:
        return routing_bus(self.state, self.policy)

    async def agent(self, aid: str, skills: dict, channels=("voice", "chat", "email"), capacity: int = 100,
                    login: bool = True) -> str:
        await self.state.upsert_agent(aid, {
            "name": aid, "capacity": capacity, "channels": list(channels), "skills": skills,
            "sip_uri": "", "quals": qualifications(self.policy, skills)})
        if login:
            await self.state.set_agent_state(aid, "available")
        return aid

    async def contact(self, cid: str | None = None, channel: str = "chat", queue: str | None = "support",
                      intent: str = "general", tier: str | None = None, conversation: str | None = None,
                      priority: int = 0, customer: str | None = None) -> str:
        cid = cid or f"c-{uuid.uuid4().hex[:8]}"
        data = ContactCreated(id=cid, channel=channel, intent=intent, queue=queue, tier=tier, priority=priority,
                              conversation_id=conversation, customer=Customer(id=customer or f"cust-{cid}"))
        env = new_event(event_type("contact.created"), data, source="tests", key=cid)
        await self.bus.handle(RouteEvent(env))
        return cid

    async def advance(self, ms: int) -> list[str]:
        """Move the clock and fire every timer now due, as the router's timer loop does."""
        self.clock.now += ms
        fired = []
        while due := await self.state.due_timers(self.clock.now):
            for member in due:
                fired.append(f"{member}={await self.state.fire_timer(member)}")
        return fired

    async def events(self, etype: str | None = None, **match) -> list[dict]:
        """Events appended since the world began, optionally one type with matching fields."""
        for entry_id, fields in await self.redis.xrange(OUTBOX, f"({self.seen}" if self.seen != "0-0" else "-"):
            self.seen = entry_id.decode()
            self.log.append((fields[b"type"].decode(), json.loads(fields[b"data"])))
        wanted = etype and event_type(etype)
        return [d for t, d in self.log
                if (wanted is None or t == wanted) and all(d.get(k) == v for k, v in match.items())]

    async def offers_to(self, aid: str) -> list[str]:
        return [o.contact for o in await self.state.pending_offers(aid)]

    async def offer_of(self, cid: str) -> dict:
        c = await self.state.get_contact(cid)
        assert c.state == "offered", c
        return (await self.state.get_offer(c.offer)).view()

    async def accept(self, cid: str) -> str:
        o = await self.offer_of(cid)
        assert await self.state.accept_offer(o["id"], o["agent"]) == "ok"
        return o["agent"]

    async def contact_state(self, cid: str) -> str:
        return (await self.state.get_contact(cid)).state

    async def agent_field(self, aid: str, name: str) -> str:
        return (await self.state.get_agent(aid)).raw[name]
