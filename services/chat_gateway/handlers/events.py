"""Routing and message events for this gateway's conversations: plain functions."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.clock import now_ms
from shared.cloudevents import Envelope
from shared.events import CHAT, ContactDeferred, event_type
from shared.transcripts import message_view

from ..domain.chat import estimated_wait_s
from .deps import ChatDeps


async def queue_frame(deps: ChatDeps, cid: str, queue: str, per_place_ms: str) -> dict:
    """The customer's place among the queue's chats in the router's order, and the wait it
    means: the router's time per place when it gave one, else the queue's answer pace."""
    position = await deps.store.position(cid, queue)
    if position is None:
        return {"type": "queued", "position": None, "estimated_wait_s": None}
    if per_place_ms:
        return {"type": "queued", "position": position,
                "estimated_wait_s": round(position * float(per_place_ms) / 1000)}
    pace = await deps.store.pace(queue)
    return {"type": "queued", "position": position,
            "estimated_wait_s": estimated_wait_s(position, pace, deps.settings.chat_default_wait_s)}


async def notify_queue(deps: ChatDeps, queue: str) -> None:
    """Positions move for everyone behind a contact that left the queue."""
    for cid, per_place_ms in (await deps.store.queued_in(deps.hub.owners(), queue)).items():
        await deps.hub.send(cid, await queue_frame(deps, cid, queue, per_place_ms))


async def contact_queued(env: Envelope, deps: ChatDeps) -> None:
    """Waiting: at the router's place for it (its order: tier and arrival), with the
    router's estimate spread over the places ahead."""
    e = env.data
    per_place = e.estimated_wait_s * 1000 / e.position if e.position and e.estimated_wait_s is not None else ""
    order = e.order_ms if e.order_ms is not None else ""
    if e.channel != CHAT or not await deps.store.update(e.contact_id, env.sequence, state="queued", queue=e.queue,
                                                        order_ms=str(order), per_place_ms=str(per_place)):
        return
    await deps.store.wait(e.contact_id, e.queue, _order(await deps.store.get(e.contact_id)))
    await notify_queue(deps, e.queue)


def _order(conv: dict) -> int:
    """Where a conversation waits among its queue's chats: the router's order, else its arrival."""
    return int(float(conv.get("order_ms") or conv.get("created_ms") or now_ms()))


async def contact_requeued(env: Envelope, deps: ChatDeps) -> None:
    conv = await deps.store.get(env.data.contact_id)
    if not conv or conv.get("state") != "assigned":
        return  # an offer that expired: the customer never saw it
    await contact_queued_again(deps, env.data.contact_id, conv, env.sequence)


async def contact_queued_again(deps: ChatDeps, cid: str, conv: dict, sequence: str | None = None) -> None:
    if not await deps.store.update(cid, sequence, state="queued"):
        return  # a late event: the contact has moved on since
    await deps.store.wait(cid, conv["queue"], _order(conv))
    await notify_queue(deps, conv["queue"])


async def contact_transferred(env: Envelope, deps: ChatDeps) -> None:
    """The agent handed the chat on: the customer waits again, at their original place,
    in the queue it went to; the conversation and its transcript go with it."""
    e = env.data
    conv = await deps.store.get(e.contact_id)
    if e.channel != CHAT or not conv or not await deps.store.update(e.contact_id, env.sequence, state="queued",
                                                                      queue=e.queue, agent_id=""):
        return
    await deps.store.wait(e.contact_id, e.queue, _order(conv))
    await deps.hub.send(e.contact_id, {"type": "transferred", "queue": e.queue})
    await notify_queue(deps, e.queue)


async def contact_assigned(env: Envelope, deps: ChatDeps) -> None:
    e = env.data
    if e.channel != CHAT or not await deps.store.update(e.contact_id, env.sequence, state="assigned",
                                                        agent_id=e.agent_id):
        return
    await deps.store.unwait(e.contact_id, e.queue)
    await deps.store.record_assignment(e.queue, now_ms())
    await deps.hub.send(e.contact_id, {"type": "assigned"})
    await notify_queue(deps, e.queue)


CLOSE_REASONS = {
    event_type("contact.completed"): "completed",
    event_type("contact.abandoned"): "abandoned",
    event_type("contact.overflowed"): "callback",  # the queue was full or the wait too long
    event_type("contact.deferred"): "closed",  # outside the queue's hours
}


async def contact_closed(env: Envelope, deps: ChatDeps) -> None:
    """Completed by the agent, abandoned, or overflowed out of the queue as a callback
    request: the chat is over for the customer, who is told why."""
    e = env.data
    reason = CLOSE_REASONS[env.type]
    if e.channel != CHAT or not await deps.store.update(e.contact_id, env.sequence, state="ended",
                                                        end_reason=reason, closed="1"):
        return
    await deps.store.unwait(e.contact_id, e.queue)
    await deps.store.cancel_abandon(e.contact_id)
    await deps.hub.send(e.contact_id, ended_frame(reason, text=closed_text(e, deps) if reason == "closed" else None))
    await notify_queue(deps, e.queue)


CALLBACK_TEXT = "All our agents are busy right now. We have your details and will get back to you."


def closed_text(e: ContactDeferred, deps: ChatDeps) -> str:
    """The hours, and the next opening in the schedule's own time zone."""
    schedule = deps.policy.schedule_of(e.queue) if e.queue in deps.policy.queues else None
    opens = ""
    if e.opens_at_ms:
        at = datetime.fromtimestamp(e.opens_at_ms / 1000, UTC)
        opens = f" We open again on {schedule.say_when(at, year=False) if schedule else f'{at:%A %d %B at %H:%M} UTC'}."
    return f"We are closed right now. Our hours: {e.hours}.{opens} You can also email us at any time."


def ended_frame(reason: str, surveyed: bool = False, text: str | None = None) -> dict:
    """`survey`: whether the widget offers the post-chat survey (chats the agent completed, once)."""
    frame = {"type": "ended", "reason": reason, "survey": reason == "completed" and not surveyed}
    text = text or (CALLBACK_TEXT if reason == "callback" else None)
    return frame | ({"text": text} if text else {})


async def message_posted(env: Envelope, deps: ChatDeps) -> None:
    m = env.data
    if not await deps.store.get(m.conversation_id):
        return  # another channel's conversation
    await deps.store.transcripts.append(m)
    # Sent even when another replica stored it first: the widget dedupes by id.
    await deps.hub.send(m.conversation_id, {"type": "message", **message_view(m)})


async def ignore(env: Envelope, deps: ChatDeps) -> None:
    return None


HANDLERS = {
    event_type("contact.queued"): contact_queued,
    event_type("contact.requeued"): contact_requeued,
    event_type("contact.assigned"): contact_assigned,
    event_type("contact.transferred"): contact_transferred,
    event_type("contact.completed"): contact_closed,
    event_type("contact.abandoned"): contact_closed,
    event_type("contact.overflowed"): contact_closed,
    event_type("contact.deferred"): contact_closed,
    event_type("message.posted"): message_posted,
}


async def handle(event: Envelope, deps: ChatDeps) -> None:
    await HANDLERS.get(event.type, ignore)(event, deps)
