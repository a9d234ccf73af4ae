"""Event handlers: plain functions taking an event and their dependencies."""

from __future__ import annotations

from dataclasses import dataclass

from shared.cloudevents import Envelope
from shared.consumer_loop import Rejected
from shared.events import ContactCreated, ContactEnded, event_type

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
    }
    return await deps.state.enqueue_contact(dedupe_key(env), c.id, spec)


async def contact_ended(env: Envelope, deps: Deps) -> str:
    e: ContactEnded = env.data
    return await deps.state.end_contact(dedupe_key(env), e.contact_id, e.reason)


async def ignore(env: Envelope, deps: Deps) -> str:
    return "ignored"


HANDLERS = {
    event_type("contact.created"): contact_created,
    event_type("contact.ended"): contact_ended,
}


def handler_for(type_: str):
    return HANDLERS.get(type_, ignore)
