"""Routing policy (DESIGN.md §1, §4): queues, steps, tiers, channels. Pure; no I/O.

Loaded from YAML and validated at load; `compile_for_redis` is the small view the Lua
transitions read (costs, blocking rules, strategies), so scripts never scan agents.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.events import ChannelName, Level, Slug

Strategy = Literal["longest_idle", "most_skilled", "least_occupied", "round_robin"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChannelPolicy(Strict):
    cost: int = Field(ge=1, le=100, description="Capacity units one contact of this channel uses")
    blocks: list[ChannelName] = Field(default_factory=list, description="Channels an agent can't take while busy on this one")
    wrapup_s: float = Field(default=0, ge=0)


class StepSkill(Strict):
    skill: Slug
    min_level: Level = 1


class Step(Strict):
    skills: list[StepSkill] = Field(min_length=1)
    timeout_s: float | None = Field(default=None, gt=0, description="How long before relaxing to the next step")
    skip_if_no_eligible: bool = False


class Sla(Strict):
    target_s: float = Field(gt=0)
    percent: float = Field(default=80, gt=0, le=100)


class Queue(Strict):
    channels: list[ChannelName] = Field(min_length=1)
    steps: list[Step] = Field(min_length=1)
    strategy: Strategy = "longest_idle"
    sla: dict[ChannelName, Sla] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _last_step_open_ended(self) -> Queue:
        if any(s.timeout_s is None for s in self.steps[:-1]):
            raise ValueError("every step but the last needs timeout_s")
        return self


class Route(Strict):
    intent: Slug
    queue: Slug
    channel: ChannelName | None = None


class Policy(Strict):
    channels: dict[ChannelName, ChannelPolicy]
    tiers: dict[Slug, float] = Field(description="Tier weight in seconds of waiting it is worth")
    default_tier: Slug = "basic"
    aging_rate: float = Field(default=1.0, gt=0, description="Priority seconds gained per second of waiting")
    tier_neutral_intents: list[Slug] = Field(default_factory=list)
    offer_timeout_s: float = Field(default=20, gt=0)
    escalation_boost_s: float = Field(default=600, ge=0, description="Priority seconds an escalated contact gains")
    queues: dict[Slug, Queue]
    routes: list[Route] = Field(default_factory=list)
    default_queue: Slug

    @model_validator(mode="after")
    def _references_exist(self) -> Policy:
        if self.default_tier not in self.tiers:
            raise ValueError(f"default_tier {self.default_tier!r} is not in tiers")
        if self.default_queue not in self.queues:
            raise ValueError(f"default_queue {self.default_queue!r} is not a queue")
        for r in self.routes:
            if r.queue not in self.queues:
                raise ValueError(f"route for intent {r.intent!r} names unknown queue {r.queue!r}")
        for name, q in self.queues.items():
            unknown = set(q.channels) - set(self.channels)
            if unknown:
                raise ValueError(f"queue {name!r} uses unknown channel(s) {sorted(unknown)}")
        return self

    def queue_for(self, intent: str, channel: str) -> str:
        """Most specific route wins: (intent, channel), then intent, then the default."""
        for r in self.routes:
            if r.intent == intent and r.channel == channel:
                return r.queue
        for r in self.routes:
            if r.intent == intent and r.channel is None:
                return r.queue
        return self.default_queue

    def priority_offset_ms(self, tier: str, intent: str, priority: int = 0) -> int:
        """How far ahead of its arrival time a contact sorts.

        With linear aging, effective priority is weight + rate*wait, so ordering by
        `enqueue_ms - weight/rate` is right at every instant without rescans.
        Tier-neutral intents (complaints) ignore tier: wait alone orders them.
        """
        weight = 0.0 if intent in self.tier_neutral_intents else self.tiers.get(tier, 0.0)
        weight += priority * 10
        return int(weight * 1000 / self.aging_rate)

    def compile_for_redis(self) -> dict:
        return {
            "channels": {n: {"cost": c.cost, "blocks": c.blocks} for n, c in self.channels.items()},
            "queues": {
                n: {"channels": q.channels, "strategy": q.strategy, "steps": len(q.steps)}
                for n, q in self.queues.items()
            },
            "offer_timeout_ms": int(self.offer_timeout_s * 1000),
        }


def qualifications(policy: Policy, skills: dict[str, int]) -> list[dict]:
    """The (queue, step) pools an agent with `skills` belongs to, with a skill score
    (sum of the step's skill levels) for the most-skilled strategy."""
    quals = []
    for qname, queue in policy.queues.items():
        for i, step in enumerate(queue.steps):
            if all(skills.get(s.skill, 0) >= s.min_level for s in step.skills):
                score = sum(skills.get(s.skill, 0) for s in step.skills)
                quals.append({"q": qname, "s": i, "sk": score})
    return quals
