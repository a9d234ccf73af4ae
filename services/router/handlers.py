"""Event handlers: plain functions taking an event and their dependencies."""

from __future__ import annotations

import json
from dataclasses import dataclass

from shared.cloudevents import Envelope
from shared.consumer_loop import Rejected
from shared.events import ContactCreated, ContactEnded, ContactUpdated, event_type

from .adapters.state import RoutingState
from .domain.policy import Policy


@dataclass
class Deps:
    state: RoutingState
    policy: Policy


def dedupe_key(env: Envelope) -> str:
    return f"or:seen:{env.source}:{env.id}"


async def contact_created(env: Envelope, deps: Deps) -> str:
    c: ContactCreated = env.data
    policy = deps.policy
    if c.channel not in policy.channels:
        raise Rejected(f"channel {c.channel!r} is not in the routing policy")
    queue = c.queue or policy.queue_for(c.intent, c.channel)
    if queue not in policy.queues:
        raise Rejected(f"queue {queue!r} is not in the routing policy")
    if c.channel not in policy.queues[queue].channels:
        raise Rejected(f"queue {queue!r} does not serve channel {c.channel!r}")
    profile = await deps.state.get_customer(c.customer.id) or {}
    tier = profile.get("tier") or c.tier or policy.default_tier
    if tier not in policy.tiers:
        tier = policy.default_tier
    first_step = policy.queues[queue].steps[0]
    spec = {
        "channel": c.channel,
        "queue": queue,
        "tier": tier,
        "intent": c.intent,
        "customer_id": c.customer.id,
        "offset_ms": policy.priority_offset_ms(tier, c.intent, c.priority),
        "skills": [s.model_dump() for s in first_step.skills],
        "data": c.model_dump_json(),
        "conversation_id": c.conversation_id,
    }
    return await deps.state.enqueue_contact(dedupe_key(env), c.id, spec)


async def contact_ended(env: Envelope, deps: Deps) -> str:
    e: ContactEnded = env.data
    return await deps.state.end_contact(dedupe_key(env), e.contact_id, e.reason)


async def contact_updated(env: Envelope, deps: Deps) -> str:
    u: ContactUpdated = env.data
    current = await deps.state.get_contact(u.contact_id)
    if current is None:
        raise Rejected(f"contact {u.contact_id!r} is unknown")
    offset_ms = None
    if u.tier is not None or u.priority is not None or u.escalate:
        offset_ms = _offset_after(u, current, deps.policy)
    spec = {
        "offset_ms": offset_ms, "tier": u.tier, "priority": u.priority, "escalate": u.escalate,
        "requeue_reason": u.requeue_reason, "metadata": u.metadata,
    }
    return await deps.state.update_contact(dedupe_key(env), u.contact_id, spec)


def _offset_after(u: ContactUpdated, current: dict, policy: Policy) -> int:
    """The contact's new lead over its arrival time, from its tier, priority and escalation."""
    original = json.loads(current["data"])
    tier = u.tier or current.get("tier") or policy.default_tier
    if tier not in policy.tiers:
        raise Rejected(f"tier {tier!r} is not in the routing policy")
    priority = u.priority if u.priority is not None else int(current.get("priority") or original.get("priority", 0))
    offset = policy.priority_offset_ms(tier, current.get("intent", ""), priority)
    escalated = u.escalate or current.get("escalated") == "1"
    return offset + (int(policy.escalation_boost_s * 1000 / policy.aging_rate) if escalated else 0)


class PolicyConflict(Exception):
    """A new policy would strand waiting contacts (their queue, step or channel is gone)."""


async def apply_policy(policy: Policy, deps: Deps, source: str | None = None) -> int:
    """Install a validated policy for every replica and move agents to the pools it
    defines. Returns the new version (0: `source` is the file installed already)."""
    active = await deps.state.active_policy()
    stranded = await deps.state.stranded_contacts(active[1] if active else deps.policy, policy)
    if stranded:
        raise PolicyConflict(f"contacts still wait in {stranded}: drain them or keep those queues, steps and channels")
    version = await deps.state.install_policy(policy, source)
    if version:
        await deps.state.requalify_agents(policy)
    return version


async def ignore(env: Envelope, deps: Deps) -> str:
    return "ignored"


HANDLERS = {
    event_type("contact.created"): contact_created,
    event_type("contact.ended"): contact_ended,
    event_type("contact.updated"): contact_updated,
}


def handler_for(type_: str):
    return HANDLERS.get(type_, ignore)
