"""Redis adapter: the gateway's view of its conversations (keys under `chat:`).

Shared by every gateway replica, so a customer may reconnect to any of them.
"""

from __future__ import annotations

import json
import time

from redis.asyncio import Redis

from shared.ordering import APPLIED, update_if_newer
from shared.transcripts import TranscriptStore

from ..domain.chat import Pace, window

TTL_S = 7 * 86_400
ABANDON = "chat:abandon"  # conversation -> due time (ms) of its "customer left"


def _conv(cid: str) -> str:
    return f"chat:conv:{cid}"


def _waiting(queue: str) -> str:
    return f"chat:waiting:{queue}"


class ChatStore:
    def __init__(self, redis: Redis):
        self.redis = redis
        self.transcripts = TranscriptStore(redis, "chat")

    # -- conversations ------------------------------------------------------------
    async def create(self, cid: str, fields: dict[str, str]) -> None:
        async with self.redis.pipeline(transaction=True) as p:
            p.hset(_conv(cid), mapping=fields)
            p.expire(_conv(cid), TTL_S)
            await p.execute()

    async def get(self, cid: str) -> dict | None:
        raw = await self.redis.hgetall(_conv(cid))
        return {k.decode(): v.decode() for k, v in raw.items()} or None

    async def queued_in(self, cids: list[str], queue: str) -> dict[str, str]:
        """Those of `cids` waiting in `queue`, each with the router's time per place ("":
        none), in one round trip."""
        async with self.redis.pipeline(transaction=False) as p:
            for cid in cids:
                p.hmget(_conv(cid), "state", "queue", "per_place_ms")
            rows = await p.execute()
        return {cid: (per or b"").decode() for cid, (state, q, per) in zip(cids, rows, strict=True)
                if state == b"queued" and q == queue.encode()}

    async def update(self, cid: str, sequence: str | None = None, **fields: str) -> bool:
        """Only conversations this gateway started, and only with news newer than the last
        routing event applied (`sequence`): False for anyone else's contact or a late event."""
        return await update_if_newer(self.redis, _conv(cid), sequence, fields) == APPLIED

    async def claim_survey(self, cid: str) -> bool:
        """One survey answer per contact, whichever replica or socket sends it first."""
        return bool(await self.redis.hsetnx(_conv(cid), "surveyed", "1"))

    async def release_survey(self, cid: str) -> None:
        await self.redis.hdel(_conv(cid), "surveyed")

    # -- waiting positions ----------------------------------------------------------
    async def wait(self, cid: str, queue: str, order_ms: int) -> None:
        """Waiting in the queue's order (the router's: lower goes first)."""
        await self.redis.zadd(_waiting(queue), {cid: order_ms})

    async def unwait(self, cid: str, queue: str) -> None:
        await self.redis.zrem(_waiting(queue), cid)

    async def position(self, cid: str, queue: str) -> int | None:
        rank = await self.redis.zrank(_waiting(queue), cid)
        return None if rank is None else rank + 1

    async def pace(self, queue: str) -> Pace:
        raw = await self.redis.hgetall(f"chat:pace:{queue}")
        return Pace(int(raw.get(b"last_ms", 0)), float(raw.get(b"interval_ms", 0)))

    async def record_assignment(self, queue: str, now_ms: int) -> None:
        pace = (await self.pace(queue)).after_assignment(now_ms)
        await self.redis.hset(f"chat:pace:{queue}", mapping={"last_ms": pace.last_ms, "interval_ms": pace.interval_ms})

    # -- customers who dropped off --------------------------------------------------
    async def schedule_abandon(self, cid: str, due_ms: int) -> None:
        await self.redis.zadd(ABANDON, {cid: due_ms})

    async def cancel_abandon(self, cid: str) -> None:
        await self.redis.zrem(ABANDON, cid)

    async def claim_due_abandons(self, now_ms: int) -> list[str]:
        """Each due conversation is claimed by exactly one replica (ZREM wins once)."""
        due = await self.redis.zrangebyscore(ABANDON, "-inf", now_ms, start=0, num=50)
        if not due:
            return []
        async with self.redis.pipeline(transaction=False) as p:
            for m in due:
                p.zrem(ABANDON, m)
            removed = await p.execute()
        return [m.decode() for m, won in zip(due, removed, strict=True) if won]

    # -- self-service offers -----------------------------------------------------------
    async def offer_articles(self, offer_id: str, queue: str, article_ids: list[str], ttl_s: int) -> None:
        await self.redis.set(f"chat:deflect:{offer_id}", json.dumps([queue, article_ids]), ex=ttl_s)

    async def take_articles(self, offer_id: str) -> tuple[str, list[str]] | None:
        """The offer's queue and article ids, once: "this solved it" counts one time."""
        raw = await self.redis.getdel(f"chat:deflect:{offer_id}")
        return tuple(json.loads(raw)) if raw else None

    # -- rate limits ----------------------------------------------------------------
    async def allow(self, bucket: str, limit: int, period_s: int = 60) -> bool:
        key = f"chat:rl:{bucket}:{window(time.time(), period_s)}"
        async with self.redis.pipeline(transaction=True) as p:
            p.incr(key)
            p.expire(key, period_s * 2)
            count, _ = await p.execute()
        return count <= limit
