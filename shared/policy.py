"""Routing policy: queues, steps, tiers, channels. A contract every service reads (the
router routes by it, the email gateway takes its SLAs from it).

Loaded from YAML and validated at load; `compile_for_redis` is the small view the Lua
transitions read (costs, blocking rules, strategies), so scripts never scan agents.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, model_validator

from shared.events import DEFAULT_DOMAIN, ChannelName, DomainName, KeyId, Level, Slug
from shared.hours import Schedule

Strategy = Literal["longest_idle", "most_skilled", "least_occupied", "round_robin", "best_outcome"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChannelPolicy(Strict):
    cost: int = Field(ge=1, le=100, description="Capacity units one contact of this channel uses")
    blocks: list[ChannelName] = Field(default_factory=list, description="Channels an agent can't take while busy on this one")
    wrapup_s: float = Field(default=0, ge=0)
    announce_agent: bool = Field(default=False, description="Post '<agent> joined' into the conversation on accept")
    callbacks: bool = Field(default=False, description="Its gateway calls customers back (voice): a contact that "
                            "overflows to a callback stays in its queue, at its place, as a callback contact")
    closed_action: Literal["wait", "callback", "leave"] = Field(
        default="leave", description="A contact arriving while its queue is closed: waits for the opening (email), "
        "becomes a callback at the opening (voice), or is told the hours and leaves (chat)")


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


class Learning(Strict):
    """How a `best_outcome` queue learns who serves each intent best (docs/routing.md)."""
    prior_csat: float = Field(default=4.0, ge=1, le=5, description="CSAT expected of an agent with no surveys yet")
    prior_surveys: float = Field(default=3, gt=0, description="How many surveys that expectation is worth")
    handle_weight: float = Field(default=0.5, ge=0, description=(
        "CSAT points that one more queue-average handle time costs (0: CSAT alone)"))
    max_hold_s: float = Field(default=10, ge=0, description=(
        "Longest a contact waits for a better, busy agent while another is free (0: never waits)"))
    hold_margin: float = Field(default=0.5, gt=0, description=(
        "How much better (CSAT points) a busy agent must be expected to do for a contact to wait for them"))
    candidates: int = Field(default=10, ge=1, le=50, description="Free agents weighed per decision (longest idle first)")


class Article(Strict):
    """A self-service answer offered before a contact reaches the queue."""
    id: Slug
    question: str = Field(min_length=1, max_length=300)
    answer: str = Field(min_length=1, max_length=4000)
    keywords: list[str] = Field(default_factory=list, description="Words a customer may use that the question lacks")
    url: str | None = Field(default=None, max_length=500, description="Where the full article is")


class Queue(Strict):
    channels: list[ChannelName] = Field(min_length=1)
    steps: list[Step] = Field(min_length=1)
    strategy: Strategy = "longest_idle"
    sla: dict[ChannelName, Sla] = Field(default_factory=dict)
    preferred_agent_s: float = Field(default=30, ge=0, description="How long a returning customer waits for their last agent first (0: off)")
    max_waiting: int | None = Field(default=None, ge=0, description="Queue cap: a contact that would wait beyond it overflows")
    max_wait_s: float | None = Field(default=None, gt=0, description="A contact still waiting this long after entering the queue overflows")
    overflow_queue: Slug | None = Field(default=None, description="Where overflow goes (keeps its place by arrival and tier)")
    overflow_action: Literal["callback"] | None = Field(default=None, description="Or: leave the queue as a callback request")
    supervisors: list[KeyId] = Field(default_factory=list, description="Agents an escalation from this queue goes to")
    schedule: Slug | None = Field(default=None, description="Its hours of operation (schedules); none: always open")
    knowledge: list[Article] = Field(default_factory=list, max_length=500, description=(
        "Self-service articles shown before a chat is queued and in the email acknowledgement"))
    learning: Learning = Field(default_factory=Learning, description="The best_outcome strategy's settings")

    @model_validator(mode="after")
    def _last_step_open_ended(self) -> Queue:
        if any(s.timeout_s is None for s in self.steps[:-1]):
            raise ValueError("every step but the last needs timeout_s")
        return self

    @model_validator(mode="after")
    def _articles_unique(self) -> Queue:
        ids = [a.id for a in self.knowledge]
        if len(ids) != len(set(ids)):
            raise ValueError(f"knowledge: article ids repeat: {sorted({i for i in ids if ids.count(i) > 1})}")
        return self

    @model_validator(mode="after")
    def _overflow_has_one_target(self) -> Queue:
        limited = self.max_waiting is not None or self.max_wait_s is not None
        targets = (self.overflow_queue is not None) + (self.overflow_action is not None)
        if limited and targets != 1:
            raise ValueError("max_waiting/max_wait_s need exactly one of overflow_queue or overflow_action")
        if not limited and targets:
            raise ValueError("overflow_queue/overflow_action need max_waiting or max_wait_s")
        return self


class Route(Strict):
    intent: Slug
    queue: Slug
    channel: ChannelName | None = None


class Policy(Strict):
    domain: DomainName = Field(default=DEFAULT_DOMAIN, description="The routing domain (center, site, tenant) it governs")
    channels: dict[ChannelName, ChannelPolicy]
    tiers: dict[Slug, float] = Field(description="Tier weight in seconds of waiting it is worth")
    default_tier: Slug = "basic"
    aging_rate: float = Field(default=1.0, gt=0, description="Priority seconds gained per second of waiting")
    tier_neutral_intents: list[Slug] = Field(default_factory=list)
    offer_timeout_s: float = Field(default=20, gt=0)
    escalation_boost_s: float = Field(default=600, ge=0, description="Priority seconds an escalated contact gains")
    max_missed_offers: int = Field(default=3, ge=1, description="Consecutive offer timeouts that pause an agent (not_ready, missed_offers)")
    planned_breaks_s: dict[Slug, PositiveFloat] = Field(
        default_factory=dict,
        description="Not-ready reasons that are planned breaks, with their length (break: 900): wait estimates count an agent on one back from when it is due")
    reoffer_delay_s: float = Field(default=10, gt=0, description="When only decliners are eligible, re-offer after this long")
    relationship_ttl_s: float = Field(default=30 * 86400, gt=0, description="How long a conversation remembers its last agent")
    dispositions: dict[Slug, str] = Field(
        default_factory=lambda: {"resolved": "Resolved", "follow_up": "Follow-up needed", "escalated": "Escalated"},
        description="Wrap-up codes the desktop offers (code: label)")
    transfer_hold_s: float = Field(default=30, gt=0, description="How long a contact transferred to a named agent or supervisor waits for them before anyone may take it")
    schedules: dict[Slug, Schedule] = Field(default_factory=dict, description="Hours of operation queues name")
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
            for ch in q.sla:
                if ch not in q.channels:
                    raise ValueError(f"queue {name!r} has an SLA for channel {ch!r} it does not serve")
            if q.schedule and q.schedule not in self.schedules:
                raise ValueError(f"queue {name!r} names unknown schedule {q.schedule!r}")
        for name in self.queues:
            self._check_overflow_chain(name)
        return self

    def _check_overflow_chain(self, name: str) -> None:
        seen = [name]
        q = self.queues[name]
        while q.overflow_queue:
            target = q.overflow_queue
            if target not in self.queues:
                raise ValueError(f"queue {seen[-1]!r} overflows to unknown queue {target!r}")
            missing = set(q.channels) - set(self.queues[target].channels)
            if missing:
                raise ValueError(f"overflow queue {target!r} does not serve {sorted(missing)} of {seen[-1]!r}")
            if target in seen:
                raise ValueError(f"overflow queues form a loop: {' -> '.join([*seen, target])}")
            seen.append(target)
            q = self.queues[target]

    def queue_for(self, intent: str, channel: str) -> str:
        """Most specific route wins: (intent, channel), then intent, then the default."""
        for r in self.routes:
            if r.intent == intent and r.channel == channel:
                return r.queue
        for r in self.routes:
            if r.intent == intent and r.channel is None:
                return r.queue
        return self.default_queue

    def closed(self, queue: str, at: dt.datetime) -> tuple[bool, dt.datetime | None]:
        """Whether the queue is closed at `at` and, if so, when it opens (None: not within
        a year)."""
        schedule = self.schedule_of(queue)
        if schedule is None or schedule.is_open(at):
            return False, None
        return True, schedule.next_opening(at)

    def schedule_of(self, queue: str) -> Schedule | None:
        name = self.queues[queue].schedule
        return self.schedules[name] if name else None

    def hours_of(self, queue: str, at: dt.datetime) -> dict:
        """The queue open or closed at `at`, its next opening and its weekly hours: what the
        API and the chat widget show."""
        closed, opens = self.closed(queue, at)
        schedule = self.schedule_of(queue)
        return {"open": not closed, "opens_at": opens, "schedule": self.queues[queue].schedule,
                "hours": schedule.describe() if schedule else None}

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
        """What the Lua transitions read. `steps` stays a count (other scripts use it);
        `step_timeout_ms[i]` is how long a contact stays in step i (-1: for good)."""
        return {
            "channels": {
                n: {"cost": c.cost, "blocks": c.blocks, "wrapup_ms": int(c.wrapup_s * 1000),
                    "announce": c.announce_agent, "callbacks": c.callbacks}
                for n, c in self.channels.items()
            },
            "queues": {n: _compile_queue(q) for n, q in self.queues.items()},
            "offer_timeout_ms": int(self.offer_timeout_s * 1000),
            "max_missed_offers": self.max_missed_offers,
            "break_ms": {reason: int(s * 1000) for reason, s in self.planned_breaks_s.items()},
            "reoffer_delay_ms": int(self.reoffer_delay_s * 1000),
            "relationship_ttl_s": int(self.relationship_ttl_s),
            "transfer_hold_ms": int(self.transfer_hold_s * 1000),
            "default_queue": self.default_queue,
        }


def _ms(seconds: float | None) -> int:
    return -1 if seconds is None else int(seconds * 1000)


def _compile_queue(q: Queue) -> dict:
    last = len(q.steps) - 1
    return {
        "channels": q.channels,
        "strategy": q.strategy,
        "steps": len(q.steps),
        "step_timeout_ms": [-1 if i == last else _ms(s.timeout_s) for i, s in enumerate(q.steps)],
        "step_skip": [s.skip_if_no_eligible for s in q.steps],
        "preferred_ms": _ms(q.preferred_agent_s),
        "max_waiting": -1 if q.max_waiting is None else q.max_waiting,
        "max_wait_ms": _ms(q.max_wait_s),
        "overflow_queue": q.overflow_queue or "",
        "overflow_action": q.overflow_action or "",
        "supervisors": q.supervisors,
        **({"learning": _compile_learning(q.learning)} if q.strategy == "best_outcome" else {}),
    }


def _compile_learning(learning: Learning) -> dict:
    return {"prior_csat": learning.prior_csat, "prior_n": learning.prior_surveys,
            "handle_weight": learning.handle_weight, "max_hold_ms": _ms(learning.max_hold_s),
            "hold_margin": learning.hold_margin, "candidates": learning.candidates}


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


DEFAULT_POLICY_FILE = Path(__file__).with_name("policy.yaml")


def policy_files(path: Path) -> list[Path]:
    """A policy file, or every `*.yaml` in a directory: one routing domain each."""
    return sorted(path.glob("*.yaml")) if path.is_dir() else [path]


def read_policy_file(path) -> tuple[str, Policy]:
    """The file's content hash (which file version is installed) and its policy."""
    with open(path, "rb") as f:
        raw = f.read()
    return hashlib.sha256(raw).hexdigest(), Policy.model_validate(yaml.safe_load(raw))


def domain_policy(path: Path, domain: str = DEFAULT_DOMAIN) -> Policy:
    """A gateway's policy (read-only: SLAs, hours): its domain's, from a file or a
    directory of them; a single file is taken whatever domain it names."""
    policies = [read_policy_file(f)[1] for f in policy_files(Path(path))]
    for policy in policies:
        if policy.domain == domain:
            return policy
    if len(policies) == 1:
        return policies[0]
    raise ValueError(f"no policy in {path} governs routing domain {domain!r}")
