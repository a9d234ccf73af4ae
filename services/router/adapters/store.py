"""Redis adapter: live routing state. Every change goes through one atomic Lua
transition (adapters/lua/*.lua, each prefixed with the generated key layout and
common.lua); reads return typed records. The only code that names routing keys (with
adapters/keys.py, which spells them)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from redis.asyncio import Redis

from shared import tracing
from shared.clock import now_ms
from shared.events import MessagePosted
from shared.policy import Policy, qualifications
from shared.transcripts import TranscriptStore

from ..domain.errors import PolicyConflict
from ..domain.records import AgentRecord, ContactRecord, OfferRecord
from . import keys

SCRIPTS = (
    "enqueue_contact", "upsert_agent", "set_agent_state", "accept_offer",
    "decline_offer", "complete_contact", "fire_timer", "end_contact", "heartbeat", "update_contact",
    "transfer_contact", "note_survey", "create_campaign", "release_campaign", "set_campaign_state",
)
STANDALONE = ("install_policy", "heartbeat")  # scripts without common.lua
HISTORY_KEEP = 50  # a customer's recent contacts the desktop shows
TOKENS_CACHED = 20_000  # agent tokens remembered per process (then forgotten at once)
# Event dedupe markers outlive any redelivery: Kafka keeps records 7 days by default.
DEDUPE_TTL_S = 7 * 86_400
# Finished contacts and closed offers are kept this long, then expire.
RETENTION_S = 3 * 86_400


def _lua(name: str) -> str:
    return resources.files("services.router.adapters.lua").joinpath(f"{name}.lua").read_text()


def script_source(name: str, dedupe_ttl_s: int = DEDUPE_TTL_S, retention_s: int = RETENTION_S) -> str:
    """A transition's full Lua: the generated key layout and lifetimes, common.lua, the script."""
    prelude = (keys.lua_prelude() + f"local DEDUPE_TTL_S = {int(dedupe_ttl_s)}\n"
               f"local RETENTION_S = {int(retention_s)}\nlocal HISTORY_KEEP = {HISTORY_KEEP}\n")
    if name in STANDALONE:  # need only the key names
        return prelude + _lua(name)
    return "\n".join([prelude, _lua("common"), _lua("learning"), _lua("campaigns"), _lua(name)])


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class RoutingStore:
    """The routing state of one domain (every key under its hash tag)."""

    def __init__(self, redis: Redis, now_ms=None, presence_timeout_ms: int = 30_000,
                 dedupe_ttl_s: int = DEDUPE_TTL_S, retention_s: int = RETENTION_S,
                 domain: str = keys.DEFAULT_DOMAIN):
        self.redis, self.domain = redis, domain
        self._keys = keys.script_keys(domain)  # every script declares the domain's fixed keys
        self._now_ms = now_ms  # tests inject a clock; production uses Redis TIME
        self.presence_timeout_ms = presence_timeout_ms  # armed at login and by heartbeats
        self.dedupe_ttl_s, self.retention_s = dedupe_ttl_s, retention_s
        self._scripts = {n: redis.register_script(script_source(n, dedupe_ttl_s, retention_s)) for n in SCRIPTS}
        self._install = redis.register_script(script_source("install_policy"))
        self.transcripts = TranscriptStore(redis, keys.PREFIX)
        self._token_owners: dict[str, str] = {}

    def for_domain(self, domain: str) -> RoutingStore:
        """Another domain's state, on the same connections and settings."""
        return RoutingStore(self.redis, self._now_ms, self.presence_timeout_ms, self.dedupe_ttl_s,
                            self.retention_s, domain)

    async def _run(self, name: str, *args: Any) -> str:
        now = "" if self._now_ms is None else str(int(self._now_ms()))
        trace = None if name in STANDALONE else tracing.current_traceparent()
        res = await self._scripts[name](keys=self._keys, args=[f"{now}|{trace}" if trace else now, *args])
        return res.decode() if isinstance(res, bytes) else res

    def now(self) -> datetime:
        """The routing clock (a test's, or this host's) for calendar rules: opening hours."""
        return datetime.fromtimestamp((self._now_ms or now_ms)() / 1000, UTC)

    async def ping(self) -> None:
        await self.redis.ping()

    async def close(self) -> None:
        await self.redis.aclose()

    def key(self, name: str, *parts: object) -> str:
        return keys.key(name, *parts, domain=self.domain)

    def constant(self, name: str) -> str:
        return keys.constant(name, self.domain)

    def dedupe_key(self, source: str, event_id: str) -> str:
        return self.key("seen", source, event_id)

    # -- policy -----------------------------------------------------------------
    async def install_policy(self, policy: Policy, source: str | None = None) -> int:
        """Make `policy` the active one for every replica; returns its version. With a
        `source` (the policy file's hash) only when that file was not installed last: 0."""
        doc = policy.model_dump_json()
        compiled = json.dumps(policy.compile_for_redis())
        mode = "api" if source is None else "file"
        result = await self._install(keys=self._keys, args=[doc, compiled, source or "", mode])
        if isinstance(result, bytes) and result.startswith(b"stranded:"):
            waiting = result.decode().removeprefix("stranded:").split(",")
            raise PolicyConflict(f"contacts still wait in {waiting}: drain them or keep those queues, steps and channels")
        return int(result)

    async def policy_version(self) -> int:
        return int(await self.redis.get(self.constant("policy_version")) or 0)

    async def active_policy(self) -> tuple[int, Policy] | None:
        """The installed policy and its version (read together, so they match)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            version, doc = await pipe.get(self.constant("policy_version")).get(self.constant("policy_doc")).execute()
        if doc is None:
            return None
        return int(version or 0), Policy.model_validate_json(doc)

    async def requalify_agents(self, policy: Policy) -> int:
        """Recompute every agent's (queue, step) pools after a policy change. Admin path,
        not the routing hot path: one transition per agent."""
        n = 0
        for agent_id in await self.agent_ids():
            agent = await self.get_agent(agent_id)
            if agent is None:
                continue
            await self.upsert_agent(agent_id, {
                "name": agent.name, "capacity": agent.capacity, "channels": agent.channels,
                "skills": agent.skills, "sip_uri": agent.sip_uri, "quals": qualifications(policy, agent.skills)})
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

    async def transfer_contact(self, contact_id: str, agent_id: str, target: dict) -> str:
        return await self._run("transfer_contact", contact_id, agent_id, json.dumps(target))

    async def note_survey(self, dedupe_key: str, contact_id: str, score: int) -> str:
        return await self._run("note_survey", dedupe_key, contact_id, score)

    async def outcomes(self, agent_id: str) -> dict[str, dict[str, float]]:
        """What a best_outcome queue has learnt of an agent: per `<intent>|<channel>`,
        surveys, their mean CSAT, contacts completed and mean handle time (ms)."""
        raw = decoded(await self.redis.hgetall(self.key("outcome", agent_id))) or {}
        learnt: dict[str, dict[str, float]] = {}
        for field, value in raw.items():
            name, _, pair = field.partition("|")
            learnt.setdefault(pair, {})[name] = float(value)
        return {pair: {"surveys": int(f.get("n", 0)),
                       "csat": round(f["s"] / f["n"], 2) if f.get("n") else None,
                       "completed": int(f.get("hn", 0)), "handle_ms": int(f.get("h", 0))}
                for pair, f in sorted(learnt.items())}

    # -- campaigns ----------------------------------------------------------------
    async def create_campaign(self, spec: dict, targets: list[dict]) -> str:
        return await self._run("create_campaign", json.dumps(spec), json.dumps(targets))

    async def release_campaign(self, campaign_id: str, open_now: bool, most: int) -> int:
        return int(await self._run("release_campaign", campaign_id, "1" if open_now else "0", most))

    async def set_campaign_state(self, campaign_id: str, state: str) -> str:
        return await self._run("set_campaign_state", campaign_id, state)

    async def running_campaigns(self) -> list[tuple[str, dict]]:
        """The running campaigns and their specs (the pacer's work), in one round trip."""
        ids = sorted(m.decode() for m in await self.redis.smembers(self.constant("campaigns")))
        async with self.redis.pipeline(transaction=False) as pipe:
            for i in ids:
                pipe.hget(self.key("campaign", i), "spec")
            specs = await pipe.execute()
        return [(i, json.loads(s)) for i, s in zip(ids, specs, strict=True) if s]

    async def campaigns(self, campaign_ids: list[str]) -> list[dict | None]:
        """Each one's spec, state and counters, and how many targets wait for a (next)
        attempt; None for one no longer kept. One round trip."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for i in campaign_ids:
                pipe.hgetall(self.key("campaign", i)).zcard(self.key("campaign_due", i))
            read = await pipe.execute()
        found = []
        for raw, waiting in zip(read[::2], read[1::2], strict=True):
            fields = decoded(raw)
            found.append({**fields, "spec": json.loads(fields["spec"]), "waiting": waiting} if fields else None)
        return found

    async def campaign(self, campaign_id: str) -> dict | None:
        return (await self.campaigns([campaign_id]))[0]

    async def campaign_ids(self, limit: int = 50) -> list[str]:
        """The newest campaigns' ids (the index is only read; see campaigns() for the kept)."""
        return [m.decode() for m in await self.redis.zrevrange(self.constant("campaign_index"), 0, limit - 1)]

    async def forget_campaigns(self, campaign_ids: list[str]) -> None:
        """Drop from the index campaigns whose keys expired."""
        if campaign_ids:
            await self.redis.zrem(self.constant("campaign_index"), *campaign_ids)

    async def do_not_contact(self, addresses: list[str], add: bool = True) -> int:
        key = self.constant("dnc")
        return await (self.redis.sadd(key, *addresses) if add else self.redis.srem(key, *addresses))

    async def on_do_not_contact(self, address: str) -> bool:
        return bool(await self.redis.sismember(self.constant("dnc"), address))

    async def contact_trace(self, contact_id: str) -> str | None:
        """The traceparent of the event that created the contact (shared/tracing.py)."""
        tp = await self.redis.hget(self.key("contact", contact_id), "tp")
        return tp.decode() if tp else None

    async def get_contact(self, contact_id: str) -> ContactRecord | None:
        raw = await self._hash(self.key("contact", contact_id))
        return ContactRecord.from_fields(contact_id, raw) if raw else None

    async def get_contacts(self, contact_ids: list[str]) -> list[ContactRecord | None]:
        found = await self._hashes([self.key("contact", cid) for cid in contact_ids])
        return [ContactRecord.from_fields(cid, raw) if raw else None
                for cid, raw in zip(contact_ids, found, strict=True)]

    # -- agents -----------------------------------------------------------------
    async def upsert_agent(self, agent_id: str, profile: dict) -> str:
        return await self._run("upsert_agent", agent_id, json.dumps(profile))

    async def set_agent_state(self, agent_id: str, state: str, reason: str = "") -> str:
        return await self._run("set_agent_state", agent_id, state, reason, str(self.presence_timeout_ms))

    async def get_agent(self, agent_id: str) -> AgentRecord | None:
        raw = await self._hash(self.key("agent", agent_id))
        return AgentRecord.from_fields(agent_id, raw) if raw else None

    async def agent_ids(self) -> list[str]:
        return sorted(m.decode() for m in await self.redis.smembers(self.constant("agents")))

    async def register_agent_token(self, agent_id: str, token: str) -> None:
        await self.redis.set(self.key("token", token_hash(token)), agent_id)

    async def agent_for_token(self, token: str) -> str | None:
        """Tokens never change owner, so a known one is answered from memory."""
        digest = token_hash(token)
        if digest in self._token_owners:
            return self._token_owners[digest]
        aid = await self.redis.get(self.key("token", digest))
        if aid is None:
            return None
        if len(self._token_owners) >= TOKENS_CACHED:
            self._token_owners.clear()
        self._token_owners[digest] = aid.decode()
        return aid.decode()

    # -- single sign-on (never cached: a session ends when it is signed out) --
    async def save_session(self, token: str, session: dict, ttl_s: int) -> None:
        await self.redis.set(self.key("session", token_hash(token)), json.dumps(session), ex=ttl_s)

    async def session_for(self, token: str) -> dict | None:
        raw = await self.redis.get(self.key("session", token_hash(token)))
        return json.loads(raw) if raw else None

    async def end_session(self, token: str) -> None:
        await self.redis.delete(self.key("session", token_hash(token)))

    async def begin_signin(self, state: str, flow: dict, ttl_s: int) -> None:
        await self.redis.set(self.key("signin", state), json.dumps(flow), ex=ttl_s)

    async def take_signin(self, state: str) -> dict | None:
        """A sign-in's flow, once: a replayed callback finds nothing."""
        raw = await self.redis.getdel(self.key("signin", state))
        return json.loads(raw) if raw else None

    async def pending_offers(self, agent_id: str) -> list[OfferRecord]:
        ids = sorted(m.decode() for m in await self.redis.smembers(self.key("agent_offers", agent_id)))
        found = await self._hashes([self.key("offer", i) for i in ids])
        return [OfferRecord.from_fields(i, raw) for i, raw in zip(ids, found, strict=True)
                if raw and raw["state"] == "pending"]

    async def agent_contacts(self, agent_id: str) -> list[str]:
        return sorted(m.decode() for m in await self.redis.smembers(self.key("agent_contacts", agent_id)))

    async def heartbeat(self, agent_id: str, timeout_ms: int | None = None) -> str:
        """Push the agent's presence timer back: one ZADD XX (the timer exists whenever the
        agent is signed in). The due time is this process's clock; timers fire on Redis
        TIME, so clock skew between the two moves a presence timeout by that much."""
        timeout = timeout_ms or self.presence_timeout_ms
        now = int(self._now_ms()) if self._now_ms is not None else now_ms()
        if await self.redis.zadd(self.constant("timers"), {f"presence:{agent_id}": now + timeout}, xx=True, ch=True):
            return "ok"
        return await self._run("heartbeat", agent_id, str(timeout))  # not armed, or same ms: it tells which

    async def staffing(self, policy: Policy) -> dict[tuple[str, str], dict[str, int]]:
        """{(queue, channel): {"staffed": n, "available": n}} from the size of each step's
        staff set (logged-in agents who meet the step) and pool (those who could take a
        contact now): one pipelined round trip of queues x steps x channels cardinalities,
        whatever the number of agents. Per pair, the largest step counts: exact when each
        step relaxes the one before (the usual shape), a lower bound otherwise."""
        cells = [(q, s, ch) for q, qp in policy.queues.items() for s in range(len(qp.steps)) for ch in qp.channels]
        async with self.redis.pipeline(transaction=False) as pipe:
            for q, s, ch in cells:
                pipe.scard(self.key("staff", q, s, ch)).zcard(self.key("pool", q, s, ch))
            sizes = await pipe.execute()
        out = {(q, ch): {"staffed": 0, "available": 0} for q, qp in policy.queues.items() for ch in qp.channels}
        for i, (q, _, ch) in enumerate(cells):
            counts = out[(q, ch)]
            counts["staffed"] = max(counts["staffed"], sizes[2 * i])
            counts["available"] = max(counts["available"], sizes[2 * i + 1])
        return out

    # -- offers -----------------------------------------------------------------
    async def get_offer(self, offer_id: str) -> OfferRecord | None:
        raw = await self._hash(self.key("offer", offer_id))
        return OfferRecord.from_fields(offer_id, raw) if raw else None

    async def accept_offer(self, offer_id: str, agent_id: str) -> str:
        return await self._run("accept_offer", offer_id, agent_id)

    async def decline_offer(self, offer_id: str, agent_id: str, reason: str = "") -> str:
        return await self._run("decline_offer", offer_id, agent_id, reason)

    # -- timers -----------------------------------------------------------------
    async def due_timers(self, now_ms: int, limit: int = 100) -> list[str]:
        due = await self.redis.zrangebyscore(self.constant("timers"), "-inf", now_ms, start=0, num=limit)
        return [m.decode() for m in due]

    async def fire_timer(self, member: str) -> str:
        return await self._run("fire_timer", member)

    async def server_time_ms(self) -> int:
        if self._now_ms is not None:
            return int(self._now_ms())
        sec, usec = await self.redis.time()
        return sec * 1000 + usec // 1000

    # -- customers (CRM profile) and their history --------------------------------
    async def set_customer(self, customer_id: str, profile: dict[str, str]) -> None:
        await self.redis.hset(self.key("customer", customer_id), mapping=profile)

    async def get_customer(self, customer_id: str) -> dict | None:
        return await self._hash(self.key("customer", customer_id))

    async def crm_answer(self, customer_id: str) -> tuple[dict | None, float]:
        """The CRM's last answer about a customer and its age in seconds (None: none kept)."""
        raw = await self.redis.get(self.key("crm", customer_id))
        if raw is None:
            return None, 0.0
        kept = json.loads(raw)
        return kept["profile"], max(0.0, ((self._now_ms or now_ms)() - kept["at"]) / 1000)

    async def remember_crm_answer(self, customer_id: str, profile: dict, keep_s: int) -> None:
        await self.redis.set(self.key("crm", customer_id), json.dumps({"profile": profile, "at": (self._now_ms or now_ms)()}),
                             ex=keep_s)

    async def history(self, customer_id: str, limit: int = 10) -> list[tuple[str, float]]:
        """(contact id, at) newest first (enqueue_contact.lua records them)."""
        found = await self.redis.zrevrange(self.key("customer_history", customer_id), 0, limit, withscores=True)
        return [(m.decode(), at) for m, at in found]

    async def append_message(self, message: MessagePosted) -> bool:
        return await self.transcripts.append(message)

    async def transcript(self, conversation_id: str) -> list[dict]:
        return await self.transcripts.read(conversation_id)

    async def _hash(self, name: str) -> dict | None:
        return decoded(await self.redis.hgetall(name))

    async def _hashes(self, names: list[str]) -> list[dict | None]:
        """Several hashes in one round trip."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hgetall(name)
            return [decoded(raw) for raw in await pipe.execute()]


def decoded(raw: dict[bytes, bytes]) -> dict | None:
    return {k.decode(): v.decode() for k, v in raw.items()} or None
