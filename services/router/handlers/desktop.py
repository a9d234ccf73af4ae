"""Agent desktops: a socket opens with a snapshot of the agent's work, then routing,
agent and message events are pushed to the sockets of the agent they concern;
transcripts are kept on the way. (The customer's contact history and the chat's
"<agent> joined" are written by the routing transitions themselves.)

Every replica reads every event (its own consumer group, from the latest offset): an
agent's socket may be on any replica. A desktop that (re)connects loads a snapshot, so
events from before a replica started are not needed here.
"""

from __future__ import annotations

from shared.cloudevents import Envelope
from shared.events import MessagePosted, event_type
from shared.transcripts import message_view

from ..domain import commands as c
from ..domain.errors import Forbidden
from ..domain.records import OfferRecord
from .agents import authenticate
from .deps import RouterDeps


async def _summary(deps: RouterDeps, contact_id: str) -> dict | None:
    contact = await deps.store.get_contact(contact_id)
    return contact.summary() if contact else None


def _offer_frame(o: OfferRecord, now: int, summary: dict | None) -> dict:
    return {"type": "offer", "offer_id": o.id, "contact_id": o.contact, "channel": o.channel, "queue": o.queue,
            "ttl_ms": max(0, o.expires_at - now), "contact": summary}


# -- the socket --------------------------------------------------------------------------
async def open_desktop(msg: c.OpenDesktop, deps: RouterDeps) -> dict:
    owner = (await authenticate(c.Authenticate(msg.token), deps)).agent_id  # an agent's token or sign-on
    if owner != msg.agent_id:
        raise Forbidden("agents can open only their own stream")
    deps.desks.add(msg.agent_id, msg.socket)
    return await snapshot(deps, msg.agent_id)


async def close_desktop(msg: c.CloseDesktop, deps: RouterDeps) -> None:
    deps.desks.remove(msg.agent_id, msg.socket)


async def snapshot(deps: RouterDeps, agent_id: str) -> dict:
    a = await deps.store.get_agent(agent_id)
    now = await deps.store.server_time_ms()
    pending = await deps.store.pending_offers(agent_id)
    held = await deps.store.agent_contacts(agent_id)
    found = await deps.store.get_contacts([o.contact for o in pending] + held)  # one round trip
    summaries = [c.summary() if c else None for c in found]
    offers = [_offer_frame(o, now, s) for o, s in zip(pending, summaries, strict=False)]
    contacts = summaries[len(pending):]
    agent = {"id": agent_id, "name": a.name if a else agent_id, "state": a.state if a else None,
             "reason": a.reason if a else "", "capacity": a.capacity if a else 0, "load": a.load if a else 0}
    policy = deps.policy.policy  # what the desk offers: wrap-up codes and transfer targets
    return {"type": "hello", "agent": agent, "offers": offers, "contacts": [s for s in contacts if s],
            "dispositions": policy.dispositions, "queues": sorted(policy.queues)}


# -- events ------------------------------------------------------------------------------
async def offer_issued(env: Envelope, deps: RouterDeps) -> None:
    o = env.data
    if not deps.desks.has(o.agent_id):  # the agent's desktop is on another replica, or closed
        return
    issued = int(env.time.timestamp() * 1000)  # the transition's clock, as expires_at_ms
    await deps.desks.send(o.agent_id, {
        "type": "offer", "offer_id": o.offer_id, "contact_id": o.contact_id, "channel": o.channel,
        "queue": o.queue, "ttl_ms": max(0, o.expires_at_ms - issued), "contact": await _summary(deps, o.contact_id),
    })


async def offer_closed(env: Envelope, deps: RouterDeps) -> None:
    o = env.data
    outcome = env.type.split(".")[2]  # omniroute.offer.<outcome>.v1
    await deps.desks.send(o.agent_id, {"type": "offer_closed", "offer_id": o.offer_id, "outcome": outcome})
    if o.consult_for and outcome != "accepted":  # a warm transfer that did not happen: still theirs
        await deps.desks.send(o.consult_for, {"type": "transfer_failed", "contact_id": o.contact_id,
                                              "agent_id": o.agent_id, "outcome": outcome})


async def contact_assigned(env: Envelope, deps: RouterDeps) -> None:
    a = env.data
    if deps.desks.has(a.agent_id):
        await deps.desks.send(a.agent_id, {"type": "contact_assigned", "contact": await _summary(deps, a.contact_id)})


async def contact_completed(env: Envelope, deps: RouterDeps) -> None:
    done = env.data
    await deps.desks.send(done.agent_id, {"type": "contact_closed", "contact_id": done.contact_id,
                                          "disposition": done.disposition})


async def contact_transferred(env: Envelope, deps: RouterDeps) -> None:
    moved = env.data  # off the transferring agent's desktop
    await deps.desks.send(moved.from_agent, {"type": "contact_closed", "contact_id": moved.contact_id,
                                             "disposition": "transferred"})


async def agent_state_changed(env: Envelope, deps: RouterDeps) -> None:
    s = env.data
    await deps.desks.send(s.agent_id, {"type": "presence", "state": s.state, "reason": s.reason})


async def message_posted(env: Envelope, deps: RouterDeps) -> None:
    m: MessagePosted = env.data
    await deps.store.append_message(m)
    contact = await deps.store.get_contact(m.contact_id or m.conversation_id)
    if contact and contact.agent and contact.state == "assigned":
        await deps.desks.send(contact.agent, {"type": "message", **message_view(m)})


EVENT_HANDLERS = {
    event_type("offer.issued"): offer_issued,
    event_type("offer.accepted"): offer_closed,
    event_type("offer.declined"): offer_closed,
    event_type("offer.expired"): offer_closed,
    event_type("contact.assigned"): contact_assigned,
    event_type("contact.completed"): contact_completed,
    event_type("contact.transferred"): contact_transferred,
    event_type("agent.state_changed"): agent_state_changed,
    event_type("message.posted"): message_posted,
}


async def feed_desktop(msg: c.FeedDesktop, deps: RouterDeps) -> None:
    handler = EVENT_HANDLERS.get(msg.event.type)
    if handler is not None:
        await handler(msg.event, deps)
