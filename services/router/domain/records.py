"""Typed views of the routing state the store keeps: what handlers and routes read
instead of raw Redis hashes. Pure: built from the hash fields the store read."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ContactRecord:
    id: str
    state: str
    channel: str
    queue: str
    tier: str
    intent: str
    customer_id: str
    agent: str = ""
    offer: str = ""
    priority: int | None = None
    escalated: bool = False
    disposition: str = ""
    contact: dict[str, Any] = field(default_factory=dict)  # the contact.created payload
    metadata: dict[str, Any] = field(default_factory=dict)  # gateways' later news
    raw: dict[str, str] = field(default_factory=dict, repr=False)  # every stored field, for the API view

    @classmethod
    def from_fields(cls, contact_id: str, f: dict[str, str]) -> ContactRecord:
        return cls(
            id=contact_id, state=f["state"], channel=f["channel"], queue=f["queue"], tier=f.get("tier", ""),
            intent=f.get("intent", ""), customer_id=f.get("customer", ""), agent=f.get("agent", ""),
            offer=f.get("offer", ""), priority=int(f["priority"]) if f.get("priority") else None,
            escalated=f.get("escalated") == "1", disposition=f.get("disposition", ""),
            contact=json.loads(f.get("data") or "{}"), metadata=json.loads(f.get("meta") or "{}"), raw=f,
        )

    @property
    def conversation_id(self) -> str:
        return self.contact.get("conversation_id") or self.id

    @property
    def channel_metadata(self) -> dict[str, Any]:
        """The gateways' (and transfers') later metadata laid over what they first said."""
        return {**self.contact.get("metadata", {}), **self.metadata}

    def view(self) -> dict:
        """The contact as the API shows it: routing fields plus the contact."""
        out = {k: v for k, v in self.raw.items() if k not in ("data", "meta")}
        return {**out, "id": self.id, "contact": {**self.contact, "metadata": self.channel_metadata}}

    def summary(self) -> dict:
        """What the agent desktop lists."""
        return {"id": self.id, "channel": self.channel, "queue": self.queue, "state": self.state,
                "tier": self.tier, "intent": self.intent, "customer": self.contact.get("customer"),
                "conversation_id": self.conversation_id}


@dataclass(frozen=True)
class AgentRecord:
    id: str
    name: str
    state: str
    reason: str
    skills: dict[str, int]
    channels: list[str]
    capacity: int
    load: int
    sip_uri: str = ""
    quals: list[dict] = field(default_factory=list)
    raw: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_fields(cls, agent_id: str, f: dict[str, str]) -> AgentRecord:
        return cls(
            id=agent_id, name=f.get("name", agent_id), state=f.get("state", "offline"), reason=f.get("reason", ""),
            skills=json.loads(f.get("skills") or "{}"), channels=json.loads(f.get("channels") or "[]") or [],
            capacity=int(f.get("capacity", 0)), load=int(f.get("load", 0)), sip_uri=f.get("sip_uri", ""),
            quals=json.loads(f.get("quals") or "[]") or [], raw=f,
        )

    @property
    def free(self) -> int:
        return self.capacity - self.load


@dataclass(frozen=True)
class OfferRecord:
    id: str
    contact: str
    agent: str
    state: str
    queue: str
    channel: str
    expires_at: int
    raw: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_fields(cls, offer_id: str, f: dict[str, str]) -> OfferRecord:
        return cls(id=offer_id, contact=f["contact"], agent=f["agent"], state=f["state"], queue=f["queue"],
                   channel=f["channel"], expires_at=int(f["expires_at"]), raw=f)

    def view(self) -> dict:
        return {**self.raw, "id": self.id}
