"""Redis adapter: cases, their contacts, thread message ids, SLA due times, the inbound
spool and the auto-ack rate limit. Every key starts with `em:`.

Per contact state lives in `em:contact:<id>` (written before the contact event is
published, so routing events never arrive for an unknown contact); the case points at
its current contact.
"""

from __future__ import annotations

import uuid

from redis.asyncio import Redis

from shared.clock import now_ms
from shared.ordering import APPLIED, update_if_newer

TTL_S = 180 * 86400  # how long a closed thread can still be answered into its case
SEEN_TTL_S = 7 * 86400  # inbound Message-ID dedupe window
CASE_BASE = 1000  # first case is C-1001
OPEN_STATES = {"new", "queued", "offered", "assigned"}


def _s(v) -> str:
    return v.decode() if isinstance(v, bytes) else (v or "")


def _dict(raw: dict) -> dict[str, str]:
    return {_s(k): _s(v) for k, v in raw.items()}


def _thread(pipe, case_id: str, message_id: str) -> None:
    """Queue the writes that thread `message_id` onto the case (last 50 kept)."""
    pipe.set(f"em:{{mail}}:msg:{message_id}", case_id, ex=TTL_S)
    pipe.rpush(f"em:{{mail}}:case:{case_id}:chain", message_id)
    pipe.ltrim(f"em:{{mail}}:case:{case_id}:chain", -50, -1)
    pipe.expire(f"em:{{mail}}:case:{case_id}:chain", TTL_S)


class CaseStore:
    def __init__(self, redis: Redis):
        self.redis = redis

    # -- cases and contacts -------------------------------------------------------
    async def new_case(self, fields: dict[str, str]) -> str:
        case_id = f"C-{CASE_BASE + await self.redis.incr('em:case:seq')}"
        await self._write(f"em:{{mail}}:case:{case_id}", {**fields, "created_ms": str(now_ms())})
        return case_id

    async def case(self, case_id: str) -> dict[str, str] | None:
        raw = await self.redis.hgetall(f"em:{{mail}}:case:{case_id}")
        return _dict(raw) if raw else None

    async def update_case(self, case_id: str, **fields: str) -> None:
        await self._write(f"em:{{mail}}:case:{case_id}", fields)

    async def _write(self, key: str, fields: dict[str, str]) -> None:
        """Set fields and renew the TTL in one round trip."""
        async with self.redis.pipeline(transaction=True) as p:
            p.hset(key, mapping=fields)
            p.expire(key, TTL_S)
            await p.execute()

    async def new_contact(self, case_id: str, **fields: str) -> str:
        n = await self.redis.hincrby(f"em:{{mail}}:case:{case_id}", "contacts", 1)
        contact_id = f"{case_id}.{n}"
        await self._write(f"em:{{mail}}:contact:{contact_id}", {"case": case_id, "state": "new", **fields})
        return contact_id

    async def contact(self, contact_id: str) -> dict[str, str] | None:
        raw = await self.redis.hgetall(f"em:{{mail}}:contact:{contact_id}")
        return _dict(raw) if raw else None

    async def set_contact_state(self, contact_id: str, state: str, agent: str | None = None,
                                sequence: str | None = None, noted: dict | None = None) -> tuple[str | None, bool]:
        """Record a routing transition unless a newer one was recorded (`sequence`), with
        what it `noted` (contact.queued: the place and estimated wait) in the same write:
        the case id (None for non-email contacts) and whether it was applied."""
        key = f"em:{{mail}}:contact:{contact_id}"
        case_id = _s(await self.redis.hget(key, "case"))
        if not case_id:
            return None, False
        fields = {"state": state, **({"agent": agent} if agent else {}), **(noted or {})}
        if await update_if_newer(self.redis, key, sequence, fields) != APPLIED:
            return case_id, False
        if agent:
            await self.update_case(case_id, last_agent=agent)
        return case_id, True

    async def open_contact(self, case_id: str) -> str | None:
        """The case's current contact when it is still being handled."""
        current = _s(await self.redis.hget(f"em:{{mail}}:case:{case_id}", "contact"))
        if not current:
            return None
        state = _s(await self.redis.hget(f"em:{{mail}}:contact:{current}", "state"))
        return current if state in OPEN_STATES else None

    async def decide_survey(self, contact_id: str, decision: str) -> bool:
        """Record whether the contact gets a survey mail; only the first decision counts
        (a redelivered completion, another replica), so at most one survey is sent."""
        return bool(await self.redis.hsetnx(f"em:{{mail}}:contact:{contact_id}", "survey", decision))

    # -- threading --------------------------------------------------------------------
    async def remember_message(self, case_id: str, message_id: str) -> None:
        pipe = self.redis.pipeline(transaction=False)
        _thread(pipe, case_id, message_id)
        await pipe.execute()

    async def remember_customer_mail(self, case_id: str, message_id: str, contact_id: str) -> None:
        """Thread a customer's mail onto the case, as the one to reply to, and mark its
        Message-ID seen (inbound dedupe), in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        _thread(pipe, case_id, message_id)
        pipe.hset(f"em:{{mail}}:case:{case_id}", "last_customer_msgid", message_id)
        pipe.expire(f"em:{{mail}}:case:{case_id}", TTL_S)
        pipe.set(f"em:{{mail}}:in:{message_id}", contact_id, ex=SEEN_TTL_S)
        await pipe.execute()

    async def chain(self, case_id: str) -> list[str]:
        return [_s(m) for m in await self.redis.lrange(f"em:{{mail}}:case:{case_id}:chain", 0, -1)]

    async def cases_for_messages(self, message_ids: list[str]) -> dict[str, str]:
        if not message_ids:
            return {}
        found = await self.redis.mget([f"em:{{mail}}:msg:{m}" for m in message_ids])
        return {m: _s(c) for m, c in zip(message_ids, found, strict=True) if c}

    async def owners(self, case_ids: list[str]) -> dict[str, str]:
        if not case_ids:
            return {}
        async with self.redis.pipeline(transaction=False) as p:
            for c in case_ids:
                p.hget(f"em:{{mail}}:case:{c}", "customer")
            found = await p.execute()
        return {c: _s(v) for c, v in zip(case_ids, found, strict=True)}

    async def seen_inbound(self, message_id: str) -> str | None:
        return _s(await self.redis.get(f"em:{{mail}}:in:{message_id}")) or None

    # -- first-response SLA ---------------------------------------------------------
    async def schedule_due(self, contact_id: str, due_ms: int) -> None:
        await self.redis.zadd("em:{mail}:due", {contact_id: due_ms})

    async def clear_due(self, contact_id: str) -> None:
        await self.redis.zrem("em:{mail}:due", contact_id)

    async def due(self, at_ms: int, limit: int = 100) -> list[str]:
        return [_s(m) for m in await self.redis.zrangebyscore("em:{mail}:due", "-inf", at_ms, start=0, num=limit)]

    async def claim_due(self, contact_id: str) -> bool:
        """Only the replica whose ZREM removed it escalates: firing twice is impossible."""
        return bool(await self.redis.zrem("em:{mail}:due", contact_id))

    # -- outbound dedupe and rate limit -----------------------------------------------
    async def claim_send(self, message_id: str) -> bool:
        return bool(await self.redis.set(f"em:{{mail}}:sent:{message_id}", "1", nx=True, ex=SEEN_TTL_S))

    async def release_send(self, message_id: str) -> None:
        await self.redis.delete(f"em:{{mail}}:sent:{message_id}")

    async def allow_ack(self, sender: str, limit: int, window_s: int) -> bool:
        key = f"em:{{mail}}:ackrate:{sender}"
        n = await self.redis.incr(key)
        if n == 1:
            await self.redis.expire(key, window_s)
        return n <= limit

    # -- spool: raw mail kept until its event is on Kafka ------------------------------
    async def spool(self, raw: bytes, meta: dict[str, str]) -> str:
        spool_id = uuid.uuid4().hex
        async with self.redis.pipeline(transaction=True) as p:
            p.hset(f"em:{{mail}}:spool:{spool_id}", mapping={"raw": raw, **meta})
            p.zadd("em:{mail}:spool", {spool_id: now_ms()})
            await p.execute()
        return spool_id

    async def unspool(self, spool_id: str) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.zrem("em:{mail}:spool", spool_id)
        pipe.delete(f"em:{{mail}}:spool:{spool_id}")
        await pipe.execute()

    async def stale_spool(self, older_than_ms: int, lease_ms: int) -> list[tuple[str, bytes, dict[str, str]]]:
        """Spooled mail nobody finished (a crash mid-intake); leased so one replica retries it."""
        out = []
        for sid in [_s(s) for s in await self.redis.zrangebyscore("em:{mail}:spool", "-inf", older_than_ms, start=0, num=20)]:
            if not await self.redis.set(f"em:{{mail}}:spool:{sid}:lease", "1", nx=True, px=lease_ms):
                continue
            raw = await self.redis.hgetall(f"em:{{mail}}:spool:{sid}")
            if raw:
                meta = {_s(k): _s(v) for k, v in raw.items() if _s(k) != "raw"}
                out.append((sid, raw[b"raw"], meta))
            else:
                await self.redis.zrem("em:{mail}:spool", sid)
        return out
