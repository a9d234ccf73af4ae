"""Redis adapter: live routing state. Every change goes through one atomic Lua
transition (adapters/lua/*.lua, each prefixed with common.lua)."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from typing import Any

from redis.asyncio import Redis

from services.router.domain.policy import Policy, qualifications

SCRIPTS = (
    "enqueue_contact", "upsert_agent", "set_agent_state", "accept_offer",
    "decline_offer", "complete_contact", "fire_timer", "end_contact", "heartbeat", "update_contact",
)
OUTBOX = "or:outbox"
TIMERS = "or:timers"


def _lua(name: str) -> str:
    return resources.files("services.router.adapters.lua").joinpath(f"{name}.lua").read_text()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class RoutingState:
    def __init__(self, redis: Redis, now_ms=None, presence_timeout_ms: int = 30_000):
        self.redis = redis
        self._now_ms = now_ms  # tests inject a clock; production uses Redis TIME
        self.presence_timeout_ms = presence_timeout_ms  # armed at login and by heartbeats
        common = _lua("common")
        self._scripts = {n: redis.register_script(common + "\n" + _lua(n)) for n in SCRIPTS}
        self._install = redis.register_script(_lua("install_policy"))

    async def _run(self, name: str, *args: Any) -> str:
        now = "" if self._now_ms is None else str(int(self._now_ms()))
        res = await self._scripts[name](keys=[], args=[now, *args])
        return res.decode() if isinstance(res, bytes) else res

    # -- policy -----------------------------------------------------------------
    async def install_policy(self, policy: Policy, source: str | None = None) -> int:
        """Make `policy` the active one for every replica; returns its version. With a
        `source` (the policy file's hash) only when that file was not installed last: 0."""
        doc = policy.model_dump_json()
        compiled = json.dumps(policy.compile_for_redis())
        mode = "api" if source is None else "file"
        return int(await self._install(keys=[], args=[doc, compiled, source or "", mode]))

    async def policy_version(self) -> int:
        return int(await self.redis.get("or:policy:version") or 0)

    async def active_policy(self) -> tuple[int, Policy] | None:
        """The installed policy and its version (read together, so they match)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            version, doc = await pipe.get("or:policy:version").get("or:policy:doc").execute()
        if doc is None:
            return None
        return int(version or 0), Policy.model_validate_json(doc)

    async def stranded_contacts(self, old: Policy, new: Policy) -> list[str]:
        """Waiting sets that still hold contacts but that `new` no longer has."""
        gone = []
        for qname, queue in old.queues.items():
            kept = new.queues.get(qname)
            for step in range(len(queue.steps)):
                for ch in queue.channels:
                    if kept and step < len(kept.steps) and ch in kept.channels:
                        continue
                    key = f"or:wait:{qname}:{step}:{ch}"
                    if await self.redis.zcard(key):
                        gone.append(key)
        return gone

    async def requalify_agents(self, policy: Policy) -> int:
        """Recompute every agent's (queue, step) pools after a policy change. Admin path,
        not the routing hot path: one transition per agent."""
        n = 0
        for agent_id in await self.agent_ids():
            raw = await self.get_agent(agent_id)
            if not raw:
                continue
            skills = json.loads(raw.get("skills") or "{}")
            profile = {
                "name": raw.get("name", agent_id), "capacity": int(raw["capacity"]),
                "channels": json.loads(raw.get("channels") or "[]") or [], "skills": skills,
                "sip_uri": raw.get("sip_uri", ""), "quals": qualifications(policy, skills),
            }
            await self.upsert_agent(agent_id, profile)
            n += 1
        return n

    # -- contacts ---------------------------------------------------------------
    async def enqueue_contact(self, dedupe_key: str, contact_id: str, spec: dict) -> str:
        return await self._run("enqueue_contact", dedupe_key, contact_id, json.dumps(spec))

    async def update_contact(self, dedupe_key: str, contact_id: str, spec: dict) -> str:
        return await self._run("update_contact", dedupe_key, contact_id, json.dumps(spec))

    async def end_contact(self, dedupe_key: str, contact_id: str, reason: str) -> str:
        return await self._run("end_contact", dedupe_key, contact_id, reason)

    async def complete_contact(self, contact_id: str, agent_id: str, disposition: str = "") -> str:
        return await self._run("complete_contact", contact_id, agent_id, disposition)

    async def get_contact(self, contact_id: str) -> dict | None:
        return await self._hash(f"or:contact:{contact_id}")

    async def get_contacts(self, contact_ids: list[str]) -> list[dict | None]:
        return await self._hashes([f"or:contact:{cid}" for cid in contact_ids])

    # -- agents -----------------------------------------------------------------
    async def upsert_agent(self, agent_id: str, profile: dict) -> str:
        return await self._run("upsert_agent", agent_id, json.dumps(profile))

    async def set_agent_state(self, agent_id: str, state: str, reason: str = "") -> str:
        return await self._run("set_agent_state", agent_id, state, reason, str(self.presence_timeout_ms))

    async def get_agent(self, agent_id: str) -> dict | None:
        return await self._hash(f"or:agent:{agent_id}")

    async def agent_ids(self) -> list[str]:
        return sorted(m.decode() for m in await self.redis.smembers("or:agents"))

    async def register_agent_token(self, agent_id: str, token: str) -> None:
        await self.redis.set(f"or:token:{token_hash(token)}", agent_id)

    async def agent_for_token(self, token: str) -> str | None:
        aid = await self.redis.get(f"or:token:{token_hash(token)}")
        return aid.decode() if aid else None

    async def pending_offers(self, agent_id: str) -> list[dict]:
        ids = sorted(m.decode() for m in await self.redis.smembers(f"or:agent:{agent_id}:offers"))
        offers = await self._hashes([f"or:offer:{i}" for i in ids])
        return [{**o, "id": i} for i, o in zip(ids, offers, strict=True) if o and o["state"] == "pending"]

    async def agent_contacts(self, agent_id: str) -> list[str]:
        return sorted(m.decode() for m in await self.redis.smembers(f"or:agent:{agent_id}:contacts"))

    async def heartbeat(self, agent_id: str, timeout_ms: int | None = None) -> str:
        return await self._run("heartbeat", agent_id, str(timeout_ms or self.presence_timeout_ms))

    # -- offers -----------------------------------------------------------------
    async def get_offer(self, offer_id: str) -> dict | None:
        o = await self._hash(f"or:offer:{offer_id}")
        if o:
            o["id"] = offer_id
        return o

    async def accept_offer(self, offer_id: str, agent_id: str) -> str:
        return await self._run("accept_offer", offer_id, agent_id)

    async def decline_offer(self, offer_id: str, agent_id: str, reason: str = "") -> str:
        return await self._run("decline_offer", offer_id, agent_id, reason)

    # -- timers -----------------------------------------------------------------
    async def due_timers(self, now_ms: int, limit: int = 100) -> list[str]:
        due = await self.redis.zrangebyscore(TIMERS, "-inf", now_ms, start=0, num=limit)
        return [m.decode() for m in due]

    async def fire_timer(self, member: str) -> str:
        return await self._run("fire_timer", member)

    async def server_time_ms(self) -> int:
        if self._now_ms is not None:
            return int(self._now_ms())
        sec, usec = await self.redis.time()
        return sec * 1000 + usec // 1000

    # -- customers (CRM profile) ------------------------------------------------
    async def set_customer(self, customer_id: str, profile: dict[str, str]) -> None:
        await self.redis.hset(f"or:customer:{customer_id}", mapping=profile)

    async def get_customer(self, customer_id: str) -> dict | None:
        return await self._hash(f"or:customer:{customer_id}")

    async def _hash(self, key: str) -> dict | None:
        return _decoded(await self.redis.hgetall(key))

    async def _hashes(self, keys: list[str]) -> list[dict | None]:
        """Several hashes in one round trip."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hgetall(key)
            return [_decoded(raw) for raw in await pipe.execute()]


def _decoded(raw: dict[bytes, bytes]) -> dict | None:
    return {k.decode(): v.decode() for k, v in raw.items()} or None
