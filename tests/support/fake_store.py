"""An in-memory stand-in for the router's RoutingStore, for handler and route tests
that need no Redis. It keeps records and simple offer/contact states; routing itself
(pools, steps, timers) is the Lua transitions' job and is tested on the real Redis."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from dataclasses import dataclass, field

from services.router.domain.errors import PolicyConflict
from services.router.domain.records import AgentRecord, ContactRecord, OfferRecord
from shared.policy import Policy


@dataclass
class FakeStore:
    now_ms: int = 1_000_000
    contacts: dict[str, dict] = field(default_factory=dict)
    agents: dict[str, dict] = field(default_factory=dict)
    offers: dict[str, dict] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    customers: dict[str, dict] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    enqueued: list[tuple[str, dict]] = field(default_factory=list)  # (contact id, spec) as the handler built it
    updates: list[tuple[str, dict]] = field(default_factory=list)
    policy: tuple[int, Policy] | None = None

    # -- seeding, as a transition would have left things ----------------------------------
    def add_contact(self, cid: str, **fields) -> None:
        base = {"state": "queued", "channel": "chat", "queue": "support", "tier": "basic", "intent": "general",
                "customer": f"cust-{cid}", "data": json.dumps({"id": cid, "customer": {"id": f"cust-{cid}"}})}
        self.contacts[cid] = {**base, **{k: str(v) for k, v in fields.items()}}

    def add_offer(self, oid: str, cid: str, aid: str, state: str = "pending") -> None:
        self.offers[oid] = {"contact": cid, "agent": aid, "state": state, "queue": "support", "channel": "chat",
                            "issued_at": str(self.now_ms), "expires_at": str(self.now_ms + 20_000)}
        self.contacts[cid].update(state="offered", offer=oid, agent=aid)

    # -- the RoutingStore surface the handlers use --------------------------------------
    @staticmethod
    def dedupe_key(source: str, event_id: str) -> str:
        return f"{source}:{event_id}"

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.now_ms / 1000, UTC)

    async def server_time_ms(self) -> int:
        return self.now_ms

    async def enqueue_contact(self, dedupe_key: str, contact_id: str, spec: dict) -> str:
        if dedupe_key in self.seen:
            return "duplicate"
        self.seen.add(dedupe_key)
        self.enqueued.append((contact_id, spec))
        self.add_contact(contact_id, channel=spec["channel"], queue=spec["queue"], tier=spec["tier"],
                         intent=spec["intent"], customer=spec["customer_id"], data=spec["data"])
        return "queued"

    async def update_contact(self, dedupe_key: str, contact_id: str, spec: dict) -> str:
        self.updates.append((contact_id, spec))
        return "updated"

    async def end_contact(self, dedupe_key: str, contact_id: str, reason: str) -> str:
        return "abandoned"

    async def get_contact(self, contact_id: str) -> ContactRecord | None:
        raw = self.contacts.get(contact_id)
        return ContactRecord.from_fields(contact_id, raw) if raw else None

    async def get_contacts(self, contact_ids: list[str]) -> list[ContactRecord | None]:
        return [await self.get_contact(cid) for cid in contact_ids]

    async def complete_contact(self, contact_id: str, agent_id: str, disposition: str = "") -> str:
        c = self.contacts.get(contact_id)
        if c is None:
            return "not_found"
        if c.get("agent") != agent_id:
            return "forbidden"
        if c["state"] != "assigned":
            return "gone"
        c.update(state="completed", disposition=disposition)
        return "ok"

    async def upsert_agent(self, agent_id: str, profile: dict) -> str:
        existed = agent_id in self.agents
        raw = self.agents.setdefault(agent_id, {"state": "offline", "reason": "", "load": "0"})
        raw.update(name=profile["name"], capacity=str(profile["capacity"]), channels=json.dumps(profile["channels"]),
                   skills=json.dumps(profile["skills"]), sip_uri=profile["sip_uri"], quals=json.dumps(profile["quals"]))
        return "updated" if existed else "created"

    async def set_agent_state(self, agent_id: str, state: str, reason: str = "") -> str:
        if agent_id not in self.agents:
            return "not_found"
        self.agents[agent_id].update(state=state, reason=reason)
        return "ok"

    async def get_agent(self, agent_id: str) -> AgentRecord | None:
        raw = self.agents.get(agent_id)
        return AgentRecord.from_fields(agent_id, raw) if raw else None

    async def register_agent_token(self, agent_id: str, token: str) -> None:
        self.tokens[token] = agent_id

    async def agent_for_token(self, token: str) -> str | None:
        return self.tokens.get(token)

    async def heartbeat(self, agent_id: str, timeout_ms: int | None = None) -> str:
        a = self.agents.get(agent_id)
        if a is None:
            return "not_found"
        return "offline" if a["state"] == "offline" else "ok"

    async def pending_offers(self, agent_id: str) -> list[OfferRecord]:
        return [OfferRecord.from_fields(oid, o) for oid, o in sorted(self.offers.items())
                if o["agent"] == agent_id and o["state"] == "pending"]

    async def agent_contacts(self, agent_id: str) -> list[str]:
        return sorted(cid for cid, c in self.contacts.items() if c.get("agent") == agent_id and c["state"] == "assigned")

    async def get_offer(self, offer_id: str) -> OfferRecord | None:
        raw = self.offers.get(offer_id)
        return OfferRecord.from_fields(offer_id, raw) if raw else None

    async def _answer(self, offer_id: str, agent_id: str, outcome: str) -> str:
        o = self.offers.get(offer_id)
        if o is None:
            return "not_found"
        if o["agent"] != agent_id:
            return "forbidden"
        if o["state"] == outcome:
            return "ok"
        if o["state"] != "pending":
            return "gone"
        o["state"] = outcome
        contact = self.contacts[o["contact"]]
        if outcome == "accepted":
            contact.update(state="assigned")
        else:
            contact.update(state="queued", agent="", offer="")
        return "ok"

    async def accept_offer(self, offer_id: str, agent_id: str) -> str:
        return await self._answer(offer_id, agent_id, "accepted")

    async def decline_offer(self, offer_id: str, agent_id: str, reason: str = "") -> str:
        return await self._answer(offer_id, agent_id, "declined")

    async def set_customer(self, customer_id: str, profile: dict) -> None:
        self.customers[customer_id] = dict(profile)

    async def get_customer(self, customer_id: str) -> dict | None:
        return self.customers.get(customer_id)

    async def history(self, customer_id: str, limit: int = 10) -> list[tuple[str, float]]:
        return []

    async def transcript(self, conversation_id: str) -> list[dict]:
        return []

    async def active_policy(self) -> tuple[int, Policy] | None:
        return self.policy

    async def policy_version(self) -> int:
        return self.policy[0] if self.policy else 0

    async def install_policy(self, policy: Policy, source: str | None = None) -> int:
        stranded = [f"wait:{c['queue']}" for c in self.contacts.values()
                    if c["state"] == "queued" and c["queue"] not in policy.queues]
        if stranded:  # as the install script refuses it
            raise PolicyConflict(f"contacts still wait in {stranded}")
        version = (self.policy[0] if self.policy else 0) + 1
        self.policy = (version, policy)
        return version

    async def requalify_agents(self, policy: Policy) -> int:
        return len(self.agents)
