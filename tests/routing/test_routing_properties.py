"""Property-based: random arrivals, agent state changes, accepts, declines, timeouts,
completions and abandons driven through the real Lua transitions on the real Redis,
with the routing invariants checked after every single transition."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from services.router.adapters import keys
from services.router.adapters.keys import OUTBOX, key
from services.router.adapters.store import RoutingStore
from services.router.domain.commands import RouteEvent
from shared.cloudevents import new_event
from shared.events import ContactCreated, Customer, event_type
from shared.policy import Policy, qualifications
from shared.redis_client import from_url
from tests.routing.conftest import redis_url
from tests.routing.world import db_url, routing_bus

pytestmark = pytest.mark.routing

PROPERTY_DB = 12
EXAMPLES = int(os.environ.get("OMNIROUTE_ROUTING_EXAMPLES", "80"))
POLICY = Policy.model_validate({
    "channels": {"voice": {"cost": 100, "blocks": ["chat", "email"], "wrapup_s": 3},
                 "chat": {"cost": 34}, "email": {"cost": 20}},
    "tiers": {"basic": 0, "enhanced": 20, "premium": 60},
    "aging_rate": 2.0,  # a tier gap of 60 s is overtaken by 30 s of extra waiting
    "tier_neutral_intents": ["complaint"],
    "offer_timeout_s": 20, "max_missed_offers": 2, "reoffer_delay_s": 5,
    "planned_breaks_s": {"break": 30},  # wait estimates count the agent back from when it is due
    "default_queue": "a",
    "queues": {
        "a": {"channels": ["voice", "chat", "email"], "preferred_agent_s": 0,
              "steps": [{"skills": [{"skill": "x", "min_level": 3}], "timeout_s": 10},
                        {"skills": [{"skill": "x", "min_level": 1}]}]},
        "b": {"channels": ["chat", "email"], "strategy": "least_occupied", "preferred_agent_s": 0,
              "max_waiting": 3, "overflow_queue": "a", "steps": [{"skills": [{"skill": "y"}]}]},
        "care": {"channels": ["chat"], "strategy": "most_skilled", "preferred_agent_s": 0,
                 "steps": [{"skills": [{"skill": "care"}]}]},
        # learns from surveys and handle times; a contact may wait up to 10 s for a better agent
        "learn": {"channels": ["chat", "voice"], "strategy": "best_outcome", "preferred_agent_s": 0,
                  "learning": {"max_hold_s": 10, "hold_margin": 0.5, "prior_surveys": 1},
                  "steps": [{"skills": [{"skill": "x", "min_level": 2}]}]},
    },
    "routes": [{"intent": "complaint", "queue": "care"}],
})
TERMINAL = {"completed", "abandoned", "overflowed"}

# Everyone chats and can work queue a at its last step, so work actually competes.
agents_st = st.lists(st.fixed_dictionaries({
    "skills": st.fixed_dictionaries({"x": st.integers(1, 5), "y": st.integers(0, 3), "care": st.integers(0, 5)}),
    "channels": st.lists(st.sampled_from(["voice", "email"]), max_size=2, unique=True).map(lambda c: ["chat", *c]),
    "capacity": st.sampled_from([34, 68, 100]),  # one, two or three chats
}), min_size=1, max_size=3)
arrive = st.tuples(st.just("arrive"), st.sampled_from(["a", "b", "care", "learn", "learn"]),
                   st.sampled_from(["chat", "chat", "email", "voice"]), st.sampled_from(["basic", "enhanced", "premium"]))
accept = st.tuples(st.just("accept"), st.integers(0, 9))
complete = st.tuples(st.just("complete"), st.integers(0, 9))
survey = st.tuples(st.just("survey"), st.integers(0, 20), st.sampled_from([1, 5]))
tick = st.tuples(st.just("tick"), st.sampled_from([1, 1_000, 3_000, 5_000, 10_000, 20_000, 35_000]))
burst = st.tuples(st.just("burst"), st.lists(arrive, min_size=2, max_size=5))
ops_st = st.lists(st.one_of(
    arrive, arrive, burst, burst, accept, st.just(("accept_all",)), complete, complete, tick, tick,
    st.tuples(st.just("state"), st.integers(0, 3), st.sampled_from(["available", "available", "not_ready", "break", "offline"])),
    st.tuples(st.just("decline"), st.integers(0, 9)),
    survey, survey,
    st.tuples(st.just("leave"), st.integers(0, 20)),), min_size=10, max_size=50)


@dataclass
class Arrival:
    seq: int
    at_ms: int
    tier: str
    intent: str

    @property
    def neutral(self) -> bool:
        return self.intent in POLICY.tier_neutral_intents

    @property
    def weight(self) -> float:
        return 0.0 if self.neutral else POLICY.tiers[self.tier]


@dataclass
class Sim:
    state: RoutingStore
    now: list[int]
    agents: list[str] = field(default_factory=list)
    arrivals: dict[str, Arrival] = field(default_factory=dict)
    seen: str = "-"
    steps: int = 0

    @property
    def redis(self) -> Redis:
        return self.state.redis

    async def run(self, op) -> None:
        kind = op[0]
        if kind == "arrive":
            await self.arrive(*op[1:])
        elif kind == "burst":  # several arrivals within one millisecond
            for one in op[1]:
                await self.arrive(*one[1:])
        elif kind == "accept_all":
            for o in [o.view() for a in self.agents for o in await self.state.pending_offers(a)]:
                assert await self.state.accept_offer(o["id"], o["agent"]) == "ok"
                await self.check()
        elif kind == "state":
            if op[1] < len(self.agents):
                state, reason = ("not_ready", "break") if op[2] == "break" else (op[2], "")
                await self.state.set_agent_state(self.agents[op[1]], state, reason)
                await self.check()
        elif kind in ("accept", "decline"):
            offers = [o.view() for a in self.agents for o in await self.state.pending_offers(a)]
            if offers:
                o = offers[op[1] % len(offers)]
                fn = self.state.accept_offer if kind == "accept" else self.state.decline_offer
                assert await fn(o["id"], o["agent"]) == "ok"
                await self.check()
        elif kind == "complete":
            held = [(a, c) for a in self.agents for c in await self.state.agent_contacts(a)]
            if held:
                aid, cid = held[op[1] % len(held)]
                assert await self.state.complete_contact(cid, aid) == "ok"
                await self.check()
        elif kind == "leave":
            ids = sorted(self.arrivals)
            if ids:
                cid = ids[op[1] % len(ids)]
                await self.state.end_contact(key("seen", "leave", cid), cid, "customer_left")
                await self.check()
        elif kind == "survey":  # a customer answers (best_outcome learns from it)
            ids = sorted(self.arrivals)
            if ids:
                cid = ids[op[1] % len(ids)]
                await self.state.note_survey(key("seen", "survey", cid), cid, op[2])
                await self.check()
        elif kind == "tick":
            self.now[0] += op[1]
            while due := await self.state.due_timers(self.now[0]):
                for member in due:  # one transition at a time, each checked
                    await self.state.fire_timer(member)
                    await self.check()

    async def arrive(self, queue: str, channel: str, tier: str) -> None:
        intent = "complaint" if queue == "care" else "general"
        if channel not in POLICY.queues[queue].channels:
            channel = POLICY.queues[queue].channels[0]
        cid = f"c{999 - len(self.arrivals):03d}"  # ids sort against arrival: FIFO can't come from names
        self.arrivals[cid] = Arrival(seq=len(self.arrivals), at_ms=self.now[0], tier=tier, intent=intent)
        data = ContactCreated(id=cid, channel=channel, intent=intent, queue=None if queue == "care" else queue,
                              tier=tier, customer=Customer(id=f"cust-{cid}"))
        env = new_event(event_type("contact.created"), data, source="prop", key=cid)
        assert await routing_bus(self.state, POLICY).handle(RouteEvent(env)) in ("queued", "overflowed")
        await self.check()

    # -- invariants -----------------------------------------------------------------
    async def check(self) -> None:
        self.steps += 1
        agents = {a: (await self.state.get_agent(a)).raw for a in self.agents}
        contacts = {c: (await self.state.get_contact(c)).raw for c in self.arrivals}
        n_offers = int(await self.redis.get(keys.constant("seq_offer")) or 0)
        offers = [o.view() for i in range(1, n_offers + 1) if (o := await self.state.get_offer(f"of-{i}"))]
        pending = [o for o in offers if o and o["state"] == "pending"]
        waiting: dict[str, list[str]] = {}
        for pattern in (keys.domain_prefix() + "wait:*", keys.domain_prefix() + "prefwait:*"):
            async for found in self.redis.scan_iter(pattern):
                for m in await self.redis.zrange(found, 0, -1):
                    waiting.setdefault(m.decode(), []).append(found.decode())
        holders: dict[str, list[str]] = {}
        for aid in self.agents:
            for cid in await self.state.agent_contacts(aid):
                holders.setdefault(cid, []).append(aid)

        # no agent over capacity; load is exactly what its offers and contacts cost
        for aid, a in agents.items():
            cost = sum(POLICY.channels[o["channel"]].cost for o in pending if o["agent"] == aid)
            cost += sum(POLICY.channels[contacts[c]["channel"]].cost for c, hs in holders.items() if aid in hs)
            assert int(a["load"]) == cost <= int(a["capacity"]), (aid, a, cost)

        # the per-queue waiting count a freed agent relies on is exact
        counted = {k.decode(): int(v) for k, v in (await self.redis.hgetall(keys.constant("waiting"))).items()}
        in_sets: dict[str, int] = {}
        for places in waiting.values():
            for place in places:
                if place.startswith(keys.domain_prefix() + "wait:"):
                    q = place.removeprefix(keys.domain_prefix() + "wait:").split(":")[0]
                    in_sets[q] = in_sets.get(q, 0) + 1
        assert {q: n for q, n in counted.items() if n} == in_sets, (counted, in_sets)

        # every contact is waiting, offered, assigned or terminal, in exactly one place
        for cid, c in contacts.items():
            live = [o for o in pending if o["contact"] == cid]
            where = waiting.get(cid, [])
            held = holders.get(cid, [])
            assert len(live) <= 1 and len(held) <= 1 and not (live and held), (cid, live, held)
            if c["state"] == "queued":
                expected = key("wait", c["queue"], c["step"], c["channel"])
                assert where == [expected] and not live and not held, (cid, c, where)
            elif c["state"] == "offered":
                assert not where and len(live) == 1 and live[0]["id"] == c["offer"], (cid, c, where, live)
            elif c["state"] == "assigned":
                assert not where and not live and held == [c["agent"]], (cid, c, held)
            else:
                assert c["state"] in TERMINAL and not where and not live and not held, (cid, c)

        await self.check_offer_order(agents, contacts)
        await self.check_work_conserving(agents, contacts)
        await self.check_breaks(agents)

    async def check_breaks(self, agents: dict) -> None:
        """An agent is in the returning index of exactly its queues, steps and channels
        while on a planned break, at when it is due back; nowhere otherwise."""
        found: dict[tuple, float] = {}
        async for k in self.redis.scan_iter(keys.domain_prefix() + "returning:*"):
            q, s, ch = k.decode().removeprefix(keys.domain_prefix() + "returning:").split(":")
            for m, due in await self.redis.zrange(k, 0, -1, withscores=True):
                found[(m.decode(), q, int(s), ch)] = due
        expected = {}
        for aid, a in agents.items():
            if a["state"] == "not_ready" and a["reason"] == "break":
                for qual in json.loads(a["quals"]):
                    for ch in POLICY.queues[qual["q"]].channels:
                        if ch in json.loads(a["channels"]):
                            expected[(aid, qual["q"], qual["s"], ch)] = float(a["due"])
        assert found == expected, (found, expected)

    def held(self, c: dict) -> bool:
        """Waiting for a better agent (best_outcome), within its queue's guard."""
        if not c.get("hold_bar"):
            return False
        return self.now[0] < int(c["qstart"]) + POLICY.queues[c["queue"]].learning.max_hold_s * 1000

    async def passed_over(self, aid: str, a: dict, x: dict, contacts: dict):
        """Contacts still waiting that agent `aid` could have had instead of `x` (one held
        for a better agent is left to them, within the guard)."""
        quals = {(q["q"], q["s"]) for q in json.loads(a["quals"])}
        for cid, y in contacts.items():
            if cid == x["id"] or y["state"] != "queued" or y["channel"] != x["channel"]:
                continue
            if (y["queue"], int(y["step"])) not in quals or self.held(y):
                continue
            if await self.redis.sismember(key("contact_declined", cid), aid):
                continue
            yield cid

    async def check_offer_order(self, agents: dict, contacts: dict) -> None:
        entries = await self.redis.xrange(OUTBOX, self.seen if self.seen == "-" else f"({self.seen}")
        for entry_id, fields in entries:
            self.seen = entry_id.decode()
            if fields[b"type"].decode() != event_type("offer.issued"):
                continue
            offer = json.loads(fields[b"data"])
            aid, xid = offer["agent_id"], offer["contact_id"]
            x = {**contacts[xid], "id": xid}
            xa = self.arrivals[xid]
            async for yid in self.passed_over(aid, agents[aid], x, contacts):
                ya = self.arrivals[yid]
                same_queue = contacts[yid]["queue"] == x["queue"]
                if xa.weight == ya.weight:  # FIFO within equal priority
                    assert ya.seq > xa.seq, ("fifo", xid, yid, xa, ya)
                if same_queue and xa.neutral and ya.neutral:  # tier-neutral: wait alone
                    assert ya.seq > xa.seq, ("tier-neutral", xid, yid, xa, ya)
                if same_queue and xa.weight > ya.weight:  # no tier starves
                    bound_ms = (xa.weight - ya.weight) * 1000 / POLICY.aging_rate
                    assert xa.at_ms - ya.at_ms <= bound_ms, ("starvation", xid, yid, xa, ya)

    async def check_work_conserving(self, agents: dict, contacts: dict) -> None:
        """No available agent with room sits beside a contact it qualifies for (unless
        it declined that contact: then the re-offer timer decides; or the contact is held
        for a better agent: never beyond the guard)."""
        for aid, a in agents.items():
            if a["state"] != "available":
                continue
            quals = {(q["q"], q["s"]) for q in json.loads(a["quals"])}
            busy = json.loads(a["busy"])
            for cid, c in contacts.items():
                ch = c["channel"]
                if c["state"] != "queued" or (c["queue"], int(c["step"])) not in quals or self.held(c):
                    continue
                if ch not in json.loads(a["channels"]):
                    continue
                if int(a["load"]) + POLICY.channels[ch].cost > int(a["capacity"]):
                    continue
                if any(n > 0 and ch in POLICY.channels[o].blocks for o, n in busy.items()):
                    continue
                assert await self.redis.sismember(key("contact_declined", cid), aid), ("idle agent beside work", aid, cid)


async def scenario(url: str, agent_specs: list[dict], ops: list) -> Sim:
    redis = from_url(url)
    try:
        await redis.flushdb()
        now = [1_000_000_000]
        state = RoutingStore(redis, now_ms=lambda: now[0], presence_timeout_ms=3_600_000)
        await state.install_policy(POLICY)
        sim = Sim(state=state, now=now)
        for i, spec in enumerate(agent_specs):
            aid = f"ag{i}"
            skills = {k: v for k, v in spec["skills"].items() if v > 0}
            await state.upsert_agent(aid, {"name": aid, "capacity": spec["capacity"], "channels": spec["channels"],
                                           "skills": skills, "sip_uri": "", "quals": qualifications(POLICY, skills)})
            sim.agents.append(aid)
            await state.set_agent_state(aid, "available")
        for op in ops:
            await sim.run(op)
        return sim
    finally:
        await redis.aclose()


# best_outcome: ag0 answered well and is busy, so the next contact waits for ag0 beside a
# free ag1, within the guard: ag0 frees and takes it, or the guard runs out and ag1 does.
LEARNT = [("state", 1, "not_ready"), ("arrive", "learn", "chat", "basic"), ("accept_all",), ("complete", 0),
          ("survey", 0, 5), ("arrive", "learn", "chat", "basic"), ("accept_all",), ("state", 1, "available"),
          ("arrive", "learn", "chat", "basic")]
TWO_CHATTERS = [{"skills": {"x": 5, "y": 0, "care": 0}, "channels": ["chat"], "capacity": 34}] * 2


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(agent_specs=agents_st, ops=ops_st)
@example(  # aging: a basic contact waiting 35 s is not overtaken by premium (30 s lead)
    agent_specs=[{"skills": {"x": 5, "y": 0, "care": 0}, "channels": ["chat"], "capacity": 34}],
    ops=[("arrive", "a", "chat", "basic"), ("accept_all",), ("arrive", "a", "chat", "basic"),
         ("tick", 35_000), ("arrive", "a", "chat", "premium"), ("complete", 0)])
@example(agent_specs=TWO_CHATTERS, ops=[*LEARNT, ("tick", 3_000), ("complete", 0), ("accept_all",)])
@example(agent_specs=TWO_CHATTERS, ops=[*LEARNT, ("tick", 5_000), ("tick", 5_000), ("accept_all",)])
def test_routing_invariants_hold_after_every_transition(infra, agent_specs, ops):
    sim = asyncio.run(scenario(db_url(redis_url(infra), PROPERTY_DB), agent_specs, ops))
    assert sim.steps >= 0
