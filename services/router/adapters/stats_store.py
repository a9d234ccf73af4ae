"""Redis adapter for ops aggregates, all under the `st:` prefix (never the router's keys).

Events are projected a Kafka batch at a time: one pipelined read of what the batch
needs (projection state of its contacts and agents, the partitions' last projected
offsets, recently seen event ids), the projection in Python, then one Lua script that
writes everything the batch changed. The script first checks that no other replica
projected these offsets meanwhile (a rebalance), so a record is projected once; event
ids seen in the last minutes drop a repeated publish of the same event.

Nothing here is read per agent or per contact on a timer: the report reads the bucket
JSON of both windows with one MGET, agents by state from a counter hash, and the time
still open (agents available or in wrap-up, contacts being handled) from per-minute
sums kept as intervals open and close.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import resources

from redis.asyncio import Redis

from shared.cloudevents import Envelope
from shared.events import DEFAULT_DOMAIN, event_type

from ..domain.ops import stats, windows

SEEN_KEEP_MS = 120_000  # a republished outbox entry arrives within the relay's claim time
OPEN_KINDS = ("available", "wrapup", "work")  # open intervals whose time the report adds
SURVEY_TTL_S = windows.DAY_TTL_S * 4
ASSIGNED = event_type("contact.assigned")


@dataclass(frozen=True)
class StatsKeys:
    """One domain's stats keys: one hash tag, so a batch's writes are one script in one
    cluster slot."""

    prefix: str

    @classmethod
    def of(cls, domain: str = DEFAULT_DOMAIN) -> StatsKeys:
        return cls(f"st:{{{domain}}}:")

    @property
    def agents(self) -> str:  # hash agent id -> json {state, since, work}
        return self.prefix + "agents"

    @property
    def agent_counts(self) -> str:  # hash state (busy: available with work) -> agents
        return self.prefix + "agentstates"

    @property
    def offsets(self) -> str:  # hash topic:partition -> last projected offset
        return self.prefix + "offsets"

    @property
    def seen(self) -> str:  # zset event id -> when projected (a short window)
        return self.prefix + "seen"

    def contact(self, cid: str) -> str:
        return f"{self.prefix}c:{cid}"

    def bucket(self, bucket: str) -> str:
        return f"{self.prefix}b:{bucket}"

    def wait(self, q: str, ch: str) -> str:
        return f"{self.prefix}wait:{q}:{ch}"

    def open(self, kind: str, part: str) -> str:
        return f"{self.prefix}open:{kind}:{part}"

    def survey(self, contact_id: str) -> str:
        return f"{self.prefix}survey:{contact_id}"


OFFSETS = StatsKeys.of().offsets  # the default domain's, for tests and tools


def bucket_ttl(bucket: str) -> int:
    return windows.MINUTE_TTL_S if bucket.startswith("m:") else windows.DAY_TTL_S


def agent_bucket(agent: dict | None) -> str | None:
    """Which count an agent is in: its state, or busy when available with work."""
    if not agent or "state" not in agent:
        return None
    return "busy" if agent["state"] == "available" and agent.get("work", 0) > 0 else agent["state"]


@dataclass(frozen=True)
class Record:
    """One consumed event and where it sat in Kafka."""

    partition: str  # topic:partition
    offset: int
    event: Envelope


@dataclass
class Batch:
    """A batch's projection state (read once) and everything it changes (written once)."""

    keys: StatsKeys
    contacts: dict[str, dict | None]
    agents: dict[str, dict | None]
    buckets: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    dirty_contacts: set[str] = field(default_factory=set)
    dirty_agents: set[str] = field(default_factory=set)
    waiting: dict[tuple[str, str, str], int | None] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    open: dict[tuple[str, int], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    def agent(self, aid: str) -> dict:
        self.dirty_agents.add(aid)
        if self.agents.get(aid) is None:
            self.agents[aid] = {"work": 0}
        return self.agents[aid]

    def open_interval(self, kind: str, start: int, weight: int, sign: int) -> None:
        cell = self.open[(kind, windows.minute_of(start))]
        cell[0] += sign * weight
        cell[1] += sign * weight * start

    def set_agent_state(self, aid: str, state: str, since: int) -> None:
        a = self.agent(aid)
        before = agent_bucket(a)
        if a.get("state") in OPEN_KINDS:
            self.open_interval(a["state"], int(a["since"]), stats.OPEN_WEIGHT, -1)
        a["state"], a["since"] = state, since
        if state in OPEN_KINDS:
            self.open_interval(state, since, stats.OPEN_WEIGHT, +1)
        self._recount(before, a)

    def add_work(self, aid: str, n: int) -> None:
        a = self.agent(aid)
        before = agent_bucket(a)
        a["work"] = max(0, a.get("work", 0) + n)
        self._recount(before, a)

    def _recount(self, before: str | None, agent: dict) -> None:
        after = agent_bucket(agent)
        if before != after:
            if before:
                self.counts[before] -= 1
            if after:
                self.counts[after] += 1

    def apply(self, op: stats.Op) -> None:
        match op:
            case stats.Add(bucket=b, field=f, n=n):
                self.buckets[b][f] += n
            case stats.SetContact(contact_id=cid, fields=fields):
                self.contacts[cid] = {**(self.contacts.get(cid) or {}), **fields}
                self.dirty_contacts.add(cid)
            case stats.Waiting(queue=q, channel=ch, contact_id=cid, since_ms=since):
                self.waiting[(q, ch, cid)] = since
            case stats.Work(contact_id=cid, value=value):
                self._work(cid, json.loads(value) if value else None)
            case stats.SetAgent(agent_id=aid, state=state, since_ms=since):
                self.set_agent_state(aid, state, since)
            case stats.SetOffer(offer_id=oid, queue=q, channel=ch):
                contact = self.contacts.get(op.contact_id) or {}
                offers = dict(list((contact.get("offers") or {}).items())[-4:])  # the last few
                offers[oid] = [q, ch]
                self.contacts[op.contact_id] = {**contact, "offers": offers}
                self.dirty_contacts.add(op.contact_id)

    def _work(self, cid: str, opened: dict | None) -> None:
        """A contact's handling interval opens (assigned) or closes (completed, requeued)."""
        contact = dict(self.contacts.get(cid) or {})
        held = contact.pop("work", None)
        if held:
            self.open_interval("work", held["at"], held["cost"], -1)
            self.add_work(held["agent"], -1)
        if opened:
            contact["work"] = {"agent": opened["agent"], "at": opened["at"], "cost": opened["cost"]}
            self.open_interval("work", opened["at"], opened["cost"], +1)
            self.add_work(opened["agent"], +1)
        self.contacts[cid] = contact
        self.dirty_contacts.add(cid)

    def ctx(self, cid: str | None, aid: str | None, oid: str | None) -> stats.Ctx:
        contact = self.contacts.get(cid) if cid else None
        offer = (contact or {}).get("offers", {}).get(oid) if oid else None
        agent = self.agents.get(aid) if aid else None
        return stats.Ctx(contact=contact, agent=dict(agent) if agent and "state" in agent else None,
                         offer={"queue": offer[0], "channel": offer[1]} if offer else None)

    def payload(self, offsets: dict[str, tuple[int, int]], seen: list[str], now_ms: int) -> str:
        waiting = [[self.keys.wait(q, ch), cid, None if since is None else str(since)]
                   for (q, ch, cid), since in self.waiting.items()]
        return json.dumps({
            "offsets": {tp: [str(first), str(last)] for tp, (first, last) in offsets.items()},
            "buckets": [[self.keys.bucket(b), bucket_ttl(b), dict(f)] for b, f in self.buckets.items()],
            "contacts": [[self.keys.contact(c), json.dumps(self.contacts[c])] for c in self.dirty_contacts
                         if self.contacts.get(c) is not None],
            "contact_ttl": windows.DAY_TTL_S,
            "waiting": waiting,
            "agents": [[a, json.dumps(self.agents[a])] for a in self.dirty_agents],
            "counts": [[state, str(n)] for state, n in self.counts.items() if n],
            "open": [[self.keys.open(kind, "n"), self.keys.open(kind, "s"), str(minute), str(n), str(s)]
                     for (kind, minute), (n, s) in self.open.items() if n or s],
            "seen": seen, "now": str(now_ms), "seen_before": str(now_ms - SEEN_KEEP_MS),
        })


class Conflict(Exception):
    """Another replica projected some of these offsets since they were read: read again."""


class StatsStore:
    """One domain's service-level aggregates."""

    def __init__(self, redis: Redis, domain: str = DEFAULT_DOMAIN):
        self.redis, self.keys = redis, StatsKeys.of(domain)
        lua = resources.files("services.router.adapters.lua").joinpath("stats_apply.lua").read_text()
        self._apply = redis.register_script(lua)

    async def project(self, records: list[Record], cfg: stats.Config, now_ms: int,
                      highwater: dict[str, int] | None = None) -> list[tuple[Envelope, stats.Ctx, int]]:
        """Project a batch; returns (event, ctx, at) of each event projected now (not a
        repeat). Raises Conflict when another replica got there first."""
        if not records:
            return []
        ids = [f"{r.event.source}:{r.event.id}" for r in records]
        wanted = [stats.keys_of(r.event.type, r.event.data) for r in records]
        cids = sorted({cid for cid, _, _ in wanted if cid})
        async with self.redis.pipeline(transaction=False) as pipe:
            tps = sorted({r.partition for r in records})
            pipe.hmget(self.keys.offsets, tps).zmscore(self.keys.seen, ids)
            # MGET beside the pipeline (a cluster pipeline takes no multi-key command): one
            # slot (the `st:` hash tag), so one command, in the same round trip.
            read, values = await asyncio.gather(pipe.execute(), self._mget([self.keys.contact(c) for c in cids]))
        done = {tp: int(v) for tp, v in zip(tps, read[0], strict=True) if v is not None}
        for tp, high in (highwater or {}).items():
            if done.get(tp, -1) > high:  # the topic was recreated: its offsets started again
                done.pop(tp)
        contacts = {c: json.loads(v) if v else None for c, v in zip(cids, values, strict=True)}
        aids = {aid for _, aid, _ in wanted if aid} | {r.event.data.agent_id for r in records
                                                      if r.event.type == ASSIGNED}
        aids |= {c["work"]["agent"] for c in contacts.values() if c and c.get("work")}
        agents = await self._agents(sorted(aids))
        batch, seen, out, offsets = Batch(keys=self.keys, contacts=contacts, agents=agents), [], [], {}
        fresh_ids = set()
        for r, event_id, score, (cid, aid, oid) in zip(records, ids, read[1], wanted, strict=True):
            if r.offset <= done.get(r.partition, -1):
                continue
            first, _ = offsets.get(r.partition, (r.offset, r.offset))
            offsets[r.partition] = (first, r.offset)
            if score is not None or event_id in fresh_ids:
                continue
            fresh_ids.add(event_id)
            seen.append(event_id)
            at = int(r.event.time.timestamp() * 1000)
            ctx = batch.ctx(cid, aid, oid)
            for op in stats.project(r.event.type, r.event.data, at, ctx, cfg):
                batch.apply(op)
            out.append((r.event, ctx, at))
        if not offsets:
            return []
        k = self.keys
        if not await self._apply(keys=[k.offsets, k.agents, k.agent_counts, k.seen], args=[batch.payload(offsets, seen, now_ms)]):
            raise Conflict("another replica projected these offsets")
        return out

    async def _mget(self, names: list[str]) -> list:
        return await self.redis.mget(names) if names else []

    async def _agents(self, aids: list[str]) -> dict[str, dict | None]:
        if not aids:
            return {}
        found = await self.redis.hmget(self.keys.agents, aids)
        return {a: json.loads(v) if v else None for a, v in zip(aids, found, strict=True)}

    # -- reads ------------------------------------------------------------------------
    async def buckets(self, pairs: list[tuple[str, str]], now_ms: int, day: str) -> dict:
        """{(q, ch): (15-minute Totals, today Totals)} for every pair: one MGET."""
        minutes = windows.recent_minutes(now_ms)
        names = [self.keys.bucket(f"m:{m}:{q}:{ch}") for q, ch in pairs for m in minutes]
        names += [self.keys.bucket(f"d:{day}:{q}:{ch}") for q, ch in pairs]
        raw = [json.loads(v) if v else {} for v in await self.redis.mget(names)] if names else []
        out, per = {}, len(minutes)
        for i, pair in enumerate(pairs):
            recent = stats.Totals()
            for h in raw[i * per:(i + 1) * per]:
                recent.add(h)
            out[pair] = (recent, stats.Totals().add(raw[len(pairs) * per + i]))
        return out

    async def waiting(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, int | None]]:
        """{(q, ch): (contacts waiting, enqueue time of the longest waiting)}."""
        pipe = self.redis.pipeline(transaction=False)
        for q, ch in pairs:
            pipe.zcard(self.keys.wait(q, ch))
            pipe.zrange(self.keys.wait(q, ch), 0, 0, withscores=True)
        raw = await pipe.execute()
        out = {}
        for i, pair in enumerate(pairs):
            n, head = raw[2 * i], raw[2 * i + 1]
            out[pair] = (n, int(head[0][1]) if head else None)
        return out

    async def live(self) -> stats.Live:
        """Agents by state and the open intervals' per-minute sums, in one round trip."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(self.keys.agent_counts)
            for kind in OPEN_KINDS:
                pipe.hgetall(self.keys.open(kind, "n")).hgetall(self.keys.open(kind, "s"))
            raw = await pipe.execute()
        counts = {k.decode(): int(v) for k, v in raw[0].items()}
        opened = {}
        for i, kind in enumerate(OPEN_KINDS):
            n, s = raw[1 + 2 * i], raw[2 + 2 * i]
            opened[kind] = {int(m): (int(w), int(s.get(m, 0))) for m, w in n.items()}
        return stats.Live(agents=counts, open=opened)

    async def claim_survey(self, contact_id: str) -> bool:
        """One survey per contact: True for the first submission only."""
        return bool(await self.redis.set(self.keys.survey(contact_id), 1, nx=True, ex=SURVEY_TTL_S))

    async def release_survey(self, contact_id: str) -> None:
        await self.redis.delete(self.keys.survey(contact_id))
