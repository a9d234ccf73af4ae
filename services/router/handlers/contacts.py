"""Contacts: the gateways' contact events from Kafka, and the assigned agent's work on
a contact (read, complete, write to the customer, transcript, customer context)."""

from __future__ import annotations

import uuid
from datetime import datetime

from shared.cloudevents import Envelope, new_event
from shared.consumer_loop import Rejected
from shared.events import (
    ContactCreated,
    ContactEnded,
    ContactUpdated,
    Customer,
    MessagePosted,
    SurveySubmitted,
    event_type,
)
from shared.policy import Policy

from ..domain import SOURCE
from ..domain import commands as c
from ..domain.errors import Conflict, Invalid, NotFound
from ..domain.records import ContactRecord
from .access import assigned_contact, raise_for
from .deps import RouterDeps

ANONYMOUS = {"anonymous", "unknown", "email:unknown"}  # customer ids that name nobody
COMPLETE_REFUSALS = {
    "not_found": "contact not found",
    "forbidden": "this contact is assigned to another agent",
    "gone": "contact is not assigned",
}


def _dedupe(env: Envelope, deps: RouterDeps) -> str:
    return deps.store.dedupe_key(env.source, env.id)


async def contact_created(env: Envelope, deps: RouterDeps) -> str:
    new: ContactCreated = env.data
    policy = deps.policy.policy
    if new.channel not in policy.channels:
        raise Rejected(f"channel {new.channel!r} is not in the routing policy")
    queue = new.queue or policy.queue_for(new.intent, new.channel)
    if queue not in policy.queues:
        raise Rejected(f"queue {queue!r} is not in the routing policy")
    if new.channel not in policy.queues[queue].channels:
        raise Rejected(f"queue {queue!r} does not serve channel {new.channel!r}")
    profile = await customer_profile(deps, new.customer)
    tier = profile.get("tier") or new.tier or policy.default_tier
    if tier not in policy.tiers:
        tier = policy.default_tier
    first_step = policy.queues[queue].steps[0]
    spec = {
        "channel": new.channel,
        "queue": queue,
        "tier": tier,
        "intent": new.intent,
        "customer_id": new.customer.id,
        "offset_ms": policy.priority_offset_ms(tier, new.intent, new.priority),
        "skills": [s.model_dump() for s in first_step.skills],
        "data": new.model_dump_json(),
        "conversation_id": new.conversation_id,
        "relationship": relationship(new.customer, profile),
    }
    spec |= _closed_hours(policy, queue, new.channel, deps.store.now())
    result = await deps.store.enqueue_contact(_dedupe(env, deps), new.id, spec)
    if result == "no_queue":  # the policy changed under this replica: never dropped silently
        raise Rejected(f"queue {queue!r} or channel {new.channel!r} is not in the policy in force")
    return result


def _closed_hours(policy: Policy, queue: str, channel: str, now: datetime) -> dict:
    """What the transition needs when the queue is closed now: the channel's closed
    action, the next opening (0: none within a year) and the hours to tell the customer."""
    closed, opens = policy.closed(queue, now)
    if not closed:
        return {}
    return {"closed_action": policy.channels[channel].closed_action,
            "opens_at_ms": int(opens.timestamp() * 1000) if opens else 0,
            "hours": policy.schedules[policy.queues[queue].schedule].describe()}


def relationship(customer: Customer, profile: dict[str, str]) -> str:
    """Whom "their last agent" is remembered for across channels: the CRM's id for the
    customer when it gave one, else the gateway's customer id ("" for anonymous callers)."""
    if profile.get("id"):
        return f"crm.{profile['id']}"[:128]
    return "" if customer.id in ANONYMOUS else customer.id


async def customer_profile(deps: RouterDeps, customer: Customer) -> dict[str, str]:
    """The local profile, else the CRM's (never waits on a slow CRM for long)."""
    if deps.customers is None:
        return await deps.store.get_customer(customer.id) or {}
    return await deps.customers.profile(customer)


async def contact_ended(env: Envelope, deps: RouterDeps) -> str:
    e: ContactEnded = env.data
    return await deps.store.end_contact(_dedupe(env, deps), e.contact_id, e.reason)


async def contact_updated(env: Envelope, deps: RouterDeps) -> str:
    u: ContactUpdated = env.data
    current = await deps.store.get_contact(u.contact_id)
    if current is None:
        raise Rejected(f"contact {u.contact_id!r} is unknown")
    offset_ms = None
    if u.tier is not None or u.priority is not None or u.escalate:
        offset_ms = _offset_after(u, current, deps.policy.policy)
    spec = {
        "offset_ms": offset_ms, "tier": u.tier, "priority": u.priority, "escalate": u.escalate,
        "requeue_reason": u.requeue_reason, "metadata": u.metadata,
        "retry_in_ms": int(u.retry_in_s * 1000) if u.retry_in_s else 0, "close_reason": u.close_reason or "",
    }
    return await deps.store.update_contact(_dedupe(env, deps), u.contact_id, spec)


def _offset_after(u: ContactUpdated, current: ContactRecord, policy: Policy) -> int:
    """The contact's new lead over its arrival time, from its tier, priority and escalation."""
    tier = u.tier or current.tier or policy.default_tier
    if tier not in policy.tiers:
        raise Rejected(f"tier {tier!r} is not in the routing policy")
    if u.priority is not None:
        priority = u.priority
    elif current.priority is not None:
        priority = current.priority
    else:
        priority = int(current.contact.get("priority", 0))
    offset = policy.priority_offset_ms(tier, current.intent, priority)
    escalated = u.escalate or current.escalated
    return offset + (int(policy.escalation_boost_s * 1000 / policy.aging_rate) if escalated else 0)


async def survey_submitted(env: Envelope, deps: RouterDeps) -> str:
    """A best_outcome queue learns from the answer (the stats projector counts it too):
    one answer per contact, whichever event carries it."""
    s: SurveySubmitted = env.data
    return await deps.store.note_survey(deps.store.dedupe_key("survey", s.contact_id), s.contact_id, s.score)


async def ignore(env: Envelope, deps: RouterDeps) -> str:
    return "ignored"


EVENT_HANDLERS = {
    event_type("contact.created"): contact_created,
    event_type("contact.ended"): contact_ended,
    event_type("contact.updated"): contact_updated,
    event_type("survey.submitted"): survey_submitted,
}


async def route_event(msg: c.RouteEvent, deps: RouterDeps) -> str:
    return await EVENT_HANDLERS.get(msg.event.type, ignore)(msg.event, deps)


# -- the assigned agent's work -----------------------------------------------------------
async def get_contact(msg: c.GetContact, deps: RouterDeps) -> ContactRecord:
    return await assigned_contact(deps, msg.contact_id, msg.caller)


async def complete_contact(msg: c.CompleteContact, deps: RouterDeps) -> str:
    """An agent completes their own contact (the transition refuses anyone else's); an
    admin completes it for the agent who has it."""
    agent_id = msg.caller.agent_id
    if msg.caller.admin:
        agent_id = (await assigned_contact(deps, msg.contact_id, msg.caller)).agent
    result = await deps.store.complete_contact(msg.contact_id, agent_id, msg.disposition)
    return raise_for(result, COMPLETE_REFUSALS)


TRANSFER_REFUSALS = {
    **COMPLETE_REFUSALS,
    "no_queue": "the target queue does not exist or does not serve this contact's channel",
    "no_agent": "no such agent",
    "agent_away": "that agent is offline or does not take this channel",
    "no_supervisor": "no supervisor of that queue is signed in for this channel",
    "self": "the contact is already yours",
    "warm_needs_agent": "a warm transfer names an agent or asks for a supervisor",
    "agent_busy": "that agent cannot take it now: a warm transfer needs them free",
}


async def transfer_contact(msg: c.TransferContact, deps: RouterDeps) -> str:
    """The agent holding a contact hands it on (an admin does it for them). It keeps its
    place: arrival time and tier are unchanged. Warm: "consulting" until the target
    accepts (the contact moves then) or not (it stays)."""
    agent_id = msg.caller.agent_id
    if msg.caller.admin:
        agent_id = (await assigned_contact(deps, msg.contact_id, msg.caller)).agent
    target = {"queue": msg.queue, "agent": msg.agent, "supervisor": msg.supervisor, "warm": msg.warm,
              "note": msg.note, "reason": msg.reason}
    return raise_for(await deps.store.transfer_contact(msg.contact_id, agent_id, target), TRANSFER_REFUSALS)


async def post_agent_message(msg: c.PostAgentMessage, deps: RouterDeps) -> MessagePosted:
    """The assigned agent writes to the customer; the channel's gateway delivers it."""
    contact = await assigned_contact(deps, msg.contact_id, msg.caller)
    if contact.state != "assigned":
        raise Conflict("contact is not assigned")
    agent = await deps.store.get_agent(contact.agent)
    message = MessagePosted(
        message_id=f"m-{uuid.uuid4().hex}", conversation_id=contact.conversation_id, contact_id=contact.id,
        sender="agent", author=agent.name if agent else contact.agent, text=msg.text,
    )
    await deps.publisher.publish(new_event(event_type("message.posted"), message, source=SOURCE,
                                           key=message.conversation_id, domain=deps.domain))
    return message


async def get_transcript(msg: c.GetTranscript, deps: RouterDeps) -> list[dict]:
    """The conversation so far, including what the customer wrote while waiting."""
    contact = await assigned_contact(deps, msg.contact_id, msg.caller)
    return await deps.store.transcript(contact.conversation_id)


async def get_customer_context(msg: c.GetCustomerContext, deps: RouterDeps) -> dict:
    """Who the customer is: tier, identity and their previous contacts."""
    contact = await assigned_contact(deps, msg.contact_id, msg.caller)
    profile = await customer_profile(deps, Customer.model_validate(contact.contact["customer"]))
    earlier = [(cid, at) for cid, at in await deps.store.history(contact.customer_id) if cid != contact.id]
    found = await deps.store.get_contacts([cid for cid, _ in earlier])  # one round trip
    previous = [{"id": cid, "channel": p.channel, "queue": p.queue, "state": p.state,
                 "disposition": p.disposition, "at": at}
                for (cid, at), p in zip(earlier, found, strict=True) if p]
    return {"customer": contact.contact["customer"], "tier": contact.tier, "crm": profile,
            "intent": contact.intent, "queue": contact.queue, "channel": contact.channel,
            "metadata": contact.channel_metadata, "previous": previous[:10]}


# -- customers (CRM profile) -------------------------------------------------------------
async def set_customer(msg: c.SetCustomer, deps: RouterDeps) -> dict:
    tiers = deps.policy.policy.tiers
    if msg.profile["tier"] not in tiers:
        raise Invalid(f"tier: unknown tier {msg.profile['tier']!r}; known: {sorted(tiers)}")
    await deps.store.set_customer(msg.customer_id, msg.profile)
    return msg.profile


async def get_customer(msg: c.GetCustomer, deps: RouterDeps) -> dict:
    profile = await deps.store.get_customer(msg.customer_id)
    if profile is None:
        raise NotFound("customer not found")
    return profile
