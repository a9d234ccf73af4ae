"""Outbound campaigns (pure): what a campaign is, validated, and the compact view the
Lua transitions read. Progressive voice: an agent is reserved (offered, accepted) before
the customer is dialled, one call per reserved agent; email: one message per target,
replies come back as inbound email."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.events import CampaignOutcome, KeyId, Slug

Outcome = Literal["busy", "no_answer", "failed"]
NUMBER = r"^\+?[0-9*#]{3,32}$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(Strict):
    """One customer to reach."""
    id: Slug
    number: str | None = Field(default=None, pattern=NUMBER, description="Voice: the number to dial")
    email: str | None = Field(default=None, max_length=320, pattern=EMAIL, description="Email: where to write")
    name: str = Field(default="", max_length=200)
    customer_id: KeyId | None = Field(default=None, description="The CRM's id (default: the number or address)")

    def address(self, channel: str) -> str | None:
        return self.number if channel == "voice" else self.email


class Campaign(Strict):
    id: Slug
    name: str = Field(default="", max_length=200)
    channel: Literal["voice", "email"]
    queue: Slug = Field(description="Voice: the queue whose agents make the calls")
    intent: Slug = Field(default="campaign", description="The contacts' intent (reports, replies' routing)")
    schedule: Slug | None = Field(default=None, description="Hours it may call or send: a schedule of the policy")
    max_attempts: int = Field(default=3, ge=1, le=10, description="Calls per target at most")
    retry_s: dict[Outcome, float] = Field(
        default_factory=lambda: {"busy": 300, "no_answer": 1800, "failed": 3600},
        description="Wait before calling a target again, per outcome (an outcome not listed is not retried)")
    agent_share: float = Field(default=0.5, gt=0, le=1, description=(
        "Share of the agents staffed for the queue that campaign calls may occupy at once (at least one); "
        "and only while no inbound contact waits in the queue"))
    send_per_s: float = Field(default=5, gt=0, le=100, description="Email: messages sent per second at most")
    subject: str = Field(default="", max_length=300)
    body: str = Field(default="", max_length=20_000, description="Email: the message ({name} is the target's name)")
    targets: list[Target] = Field(min_length=1, max_length=10_000)

    @model_validator(mode="after")
    def _targets_reachable(self) -> Campaign:
        ids = [t.id for t in self.targets]
        if len(ids) != len(set(ids)):
            raise ValueError(f"targets: ids repeat: {sorted({i for i in ids if ids.count(i) > 1})[:5]}")
        missing = [t.id for t in self.targets if not t.address(self.channel)]
        if missing:
            field = "number" if self.channel == "voice" else "email"
            raise ValueError(f"targets without a {field}: {missing[:5]}")
        if self.channel == "email" and not (self.subject and self.body):
            raise ValueError("an email campaign needs a subject and a body")
        return self

    def compiled(self) -> dict:
        """What the Lua transitions read."""
        return {"id": self.id, "name": self.name, "schedule": self.schedule or "", "channel": self.channel,
                "queue": self.queue, "intent": self.intent,
                "max_attempts": self.max_attempts, "retry_ms": {k: int(v * 1000) for k, v in self.retry_s.items()},
                "agent_share": self.agent_share, "send_gap_ms": int(1000 / self.send_per_s),
                "subject": self.subject, "body": self.body}

    def target_rows(self) -> list[dict]:
        """Each target as the transitions keep it: address, name, customer, attempts, status."""
        return [{"id": t.id, "a": t.address(self.channel), "n": t.name,
                 "c": t.customer_id or t.address(self.channel), "k": 0, "s": "pending"} for t in self.targets]

OUTCOMES = get_args(CampaignOutcome)


def progress(raw: dict) -> dict:
    """A campaign's progress from what the transitions keep (its hash, and how many
    targets wait for an attempt)."""
    spec = raw["spec"]
    return {"id": spec["id"], "name": spec.get("name", ""), "channel": spec["channel"], "queue": spec["queue"],
            "state": raw["state"], "targets": int(raw["total"]), "done": int(raw["done"]),
            "waiting": int(raw["waiting"]), "in_flight": int(raw["inflight"]), "attempts": int(raw["attempts"]),
            "exhausted": int(raw.get("exhausted", 0)),
            "outcomes": {o: int(raw[f"n_{o}"]) for o in OUTCOMES if raw.get(f"n_{o}")}}
