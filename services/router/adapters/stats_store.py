"""Redis adapter for ops aggregates, all under the `st:` prefix (never the router's
`or:` keys). Each event's changes and its dedupe marker are written in one MULTI/EXEC
guarded by WATCH, so a redelivered event changes nothing and concurrent replicas
can't interleave a read-modify-write."""

from __future__ import annotations

import json

from redis.asyncio import Redis
from redis.exceptions import WatchError

from ..domain.ops import stats, windows

P = "st:"
SEEN_TTL_S = windows.DAY_TTL_S
AGENTS = P + "agents"  # hash agent id -> json {state, since}
WORK = P + "work"  # hash contact id -> json {agent, at, cost, q, ch}: contacts being handled


def k_contact(cid: str) -> str:
    return f"{P}c:{cid}"


def k_offer(oid: str) -> str:
    return f"{P}o:{oid}"


def k_wait(q: str, ch: str) -> str:
    return f"{P}wait:{q}:{ch}"


def _decode(raw: dict) -> dict[str, str] | None:
    return {k.decode(): v.decode() for k, v in raw.items()} or None


class StatsStore:
    def __init__(self, redis: Redis):
        self.redis = redis

    async def apply(self, event_id: str, type_: str, data, at_ms: int, cfg: stats.Config):
        """Project one event; returns (ops, ctx), or None when it was seen before."""
        cid, aid, oid = stats.keys_of(type_, data)
        seen = f"{P}seen:{event_id}"
        watched = [seen] + [k for k in (cid and k_contact(cid), oid and k_offer(oid)) if k]
        if aid:
            watched.append(AGENTS)
        async with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(*watched)
                    seen_before, ctx = await self._read(seen, cid, aid, oid)
                    if seen_before:
                        return None
                    ops = stats.project(type_, data, at_ms, ctx, cfg)
                    pipe.multi()
                    for op in ops:
                        self._write(pipe, op)
                    pipe.set(seen, 1, ex=SEEN_TTL_S)
                    await pipe.execute()
                    return ops, ctx
                except WatchError:
                    continue

    async def _read(self, seen: str, cid, aid, oid) -> tuple[bool, stats.Ctx]:
        """The dedupe marker and the projection state, in one round trip. Read after WATCH
        (on another connection is fine): any later change still aborts the EXEC."""
        reads = self.redis.pipeline(transaction=False)
        reads.exists(seen)
        if cid:
            reads.hgetall(k_contact(cid))
        if oid:
            reads.hgetall(k_offer(oid))
        if aid:
            reads.hget(AGENTS, aid)
        found = iter(await reads.execute())
        seen_before = bool(next(found))
        contact = _decode(next(found)) if cid else None
        offer = _decode(next(found)) if oid else None
        raw_agent = next(found) if aid else None
        agent = json.loads(raw_agent) if raw_agent else None
        return seen_before, stats.Ctx(contact=contact, agent=agent, offer=offer)

    @staticmethod
    def _write(pipe, op: stats.Op) -> None:
        match op:
            case stats.Add(bucket=b, field=f, n=n):
                key = P + b
                pipe.hincrby(key, f, n)
                pipe.expire(key, windows.MINUTE_TTL_S if b.startswith("m:") else windows.DAY_TTL_S)
            case stats.SetContact(contact_id=cid, fields=fields):
                pipe.hset(k_contact(cid), mapping=fields)
                pipe.expire(k_contact(cid), windows.DAY_TTL_S)
            case stats.Waiting(queue=q, channel=ch, contact_id=cid, since_ms=since):
                if since is None:
                    pipe.zrem(k_wait(q, ch), cid)
                else:
                    pipe.zadd(k_wait(q, ch), {cid: since})
            case stats.Work(contact_id=cid, value=value):
                pipe.hdel(WORK, cid) if value is None else pipe.hset(WORK, cid, value)
            case stats.SetAgent(agent_id=aid, state=state, since_ms=since):
                pipe.hset(AGENTS, aid, json.dumps({"state": state, "since": since}))
            case stats.SetOffer(offer_id=oid, queue=q, channel=ch):
                pipe.hset(k_offer(oid), mapping={"queue": q, "channel": ch})
                pipe.expire(k_offer(oid), windows.DAY_TTL_S)

    # -- reads ------------------------------------------------------------------------
    async def buckets(self, pairs: list[tuple[str, str]], now_ms: int, day: str) -> dict:
        """{(q, ch): (15-minute Totals, today Totals)} for every pair."""
        minutes = windows.recent_minutes(now_ms)
        pipe = self.redis.pipeline(transaction=False)
        for q, ch in pairs:
            for m in minutes:
                pipe.hgetall(f"{P}m:{m}:{q}:{ch}")
            pipe.hgetall(f"{P}d:{day}:{q}:{ch}")
        raw = await pipe.execute()
        out, per = {}, len(minutes) + 1
        for i, pair in enumerate(pairs):
            chunk = [{k.decode(): int(v) for k, v in h.items()} for h in raw[i * per:(i + 1) * per]]
            recent = stats.Totals()
            for h in chunk[:-1]:
                recent.add(h)
            out[pair] = (recent, stats.Totals().add(chunk[-1]))
        return out

    async def waiting(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, int | None]]:
        """{(q, ch): (contacts waiting, enqueue time of the longest waiting)}."""
        pipe = self.redis.pipeline(transaction=False)
        for q, ch in pairs:
            pipe.zcard(k_wait(q, ch))
            pipe.zrange(k_wait(q, ch), 0, 0, withscores=True)
        raw = await pipe.execute()
        out = {}
        for i, pair in enumerate(pairs):
            n, head = raw[2 * i], raw[2 * i + 1]
            out[pair] = (n, int(head[0][1]) if head else None)
        return out

    async def agents(self) -> dict[str, dict]:
        return {k.decode(): json.loads(v) for k, v in (await self.redis.hgetall(AGENTS)).items()}

    async def work(self) -> dict[str, dict]:
        return {k.decode(): json.loads(v) for k, v in (await self.redis.hgetall(WORK)).items()}

    async def claim_survey(self, contact_id: str) -> bool:
        """One survey per contact: True for the first submission only."""
        return bool(await self.redis.set(f"{P}survey:{contact_id}", 1, nx=True, ex=windows.DAY_TTL_S * 4))

    async def release_survey(self, contact_id: str) -> None:
        await self.redis.delete(f"{P}survey:{contact_id}")
