"""What a customer does: start, resume, write, leave, drop off. Each step that the
customer is told about happens only after Kafka acknowledged its event (docs/architecture.md: reliability)."""

from __future__ import annotations

import uuid

from shared.clock import now_ms
from shared.events import CHAT, ContactCreated, Customer, MessagePosted, SurveySubmitted
from shared.transcripts import message_view

from ..adapters import metrics
from ..domain.chat import (
    CLOSE_UNKNOWN,
    ProtocolError,
    Resume,
    Start,
    Survey,
    open_token,
    sign_conversation,
)
from .deps import ChatDeps
from .events import ended_frame, queue_frame


def new_id() -> str:
    return f"chat-{uuid.uuid4().hex}"


async def start(deps: ChatDeps, cid: str, frame: Start) -> list[dict]:
    """Create the contact; returns the frames for the customer."""
    created = now_ms()
    await deps.store.create(cid, {
        "state": "starting", "name": frame.name, "email": frame.email, "customer_id": frame.customer_key,
        "intent": frame.intent, "topic": frame.topic, "created_ms": str(created), "queue": "",
    })
    contact = ContactCreated(
        id=cid, channel=CHAT, customer=Customer(id=frame.customer_key, address=frame.email or frame.customer_key,
                                                name=frame.name),
        intent=frame.intent, conversation_id=cid, metadata={"topic": frame.topic, "email": frame.email},
    )
    await deps.publisher.submit_contact(contact)
    token = sign_conversation(deps.settings.chat_secret.get_secret_value(), cid)
    started = {"type": "started", "conversation_id": cid, "token": token, "name": frame.name}
    return [started, await state_frame(deps, cid, await deps.store.get(cid))]


async def resume(deps: ChatDeps, frame: Resume) -> tuple[str, list[dict]]:
    """Open the token's conversation (only that one) and replay its transcript."""
    s = deps.settings
    cid = open_token(s.chat_secret.get_secret_value(), frame.token, s.chat_token_max_age_s, frame.conversation_id)
    conv = await deps.store.get(cid)
    if conv is None:
        raise ProtocolError(CLOSE_UNKNOWN, "conversation not found")
    await deps.store.cancel_abandon(cid)
    frames = [{"type": "started", "conversation_id": cid, "token": frame.token, "name": conv["name"], "resumed": True},
              {"type": "transcript", "messages": await deps.store.transcripts.read(cid)}]
    frames.append(await state_frame(deps, cid, conv))
    return cid, frames


async def state_frame(deps: ChatDeps, cid: str, conv: dict) -> dict:
    state = conv.get("state")
    if state == "assigned":
        return {"type": "assigned"}
    if state == "ended":
        return ended_frame(conv.get("end_reason", ""), surveyed=bool(conv.get("surveyed")))
    if conv.get("queue"):
        return await queue_frame(deps, cid, conv["queue"], conv.get("per_place_ms", ""))
    return {"type": "queued", "position": None, "estimated_wait_s": None}


async def say(deps: ChatDeps, cid: str, text: str) -> dict:
    conv = await deps.store.get(cid) or {}
    message = MessagePosted(message_id=f"m-{uuid.uuid4().hex}", conversation_id=cid, contact_id=cid,
                            sender="customer", author=conv.get("name", ""), text=text)
    await deps.publisher.post_message(message)
    await deps.store.transcripts.append(message)
    frame = {"type": "message", **message_view(message)}
    await deps.hub.send(cid, frame)
    return frame


async def answer_survey(deps: ChatDeps, cid: str, frame: Survey) -> dict:
    """The customer rates their own contact (the socket's), once, after the agent completed it."""
    conv = await deps.store.get(cid) or {}
    if conv.get("end_reason") != "completed":
        return {"type": "error", "code": "survey_not_open", "detail": "the survey opens when the agent closes the chat"}
    if not await deps.store.claim_survey(cid):
        return {"type": "error", "code": "survey_answered", "detail": "Thank you, we already have your answer"}
    try:
        await deps.publisher.submit_survey(SurveySubmitted(contact_id=cid, score=frame.score, comment=frame.comment))
    except BaseException:
        await deps.store.release_survey(cid)  # not recorded: the customer may send it again
        raise
    metrics.SURVEYS.inc()
    return {"type": "survey_recorded"}


async def leave(deps: ChatDeps, cid: str, reason: str) -> None:
    """The customer is gone: the router abandons a waiting contact or tells the agent."""
    conv = await deps.store.get(cid)
    if not conv or conv.get("state") == "ended":
        return
    await deps.publisher.end_contact(cid, reason)
    await deps.store.update(cid, state="ended", end_reason=reason, closed="1")
    if conv.get("state") == "assigned":  # the agent reads it in the chat pane
        await deps.publisher.post_message(MessagePosted(
            message_id=f"m-left-{cid}", conversation_id=cid, contact_id=cid, sender="system",
            text=f"{conv.get('name') or 'The customer'} left the chat"))
    if conv.get("queue"):
        await deps.store.unwait(cid, conv["queue"])


async def dropped(deps: ChatDeps, cid: str) -> None:
    """The socket closed without a goodbye: wait for a resume before ending the contact."""
    conv = await deps.store.get(cid)
    if conv and conv.get("state") != "ended":
        await deps.store.schedule_abandon(cid, now_ms() + int(deps.settings.chat_abandon_grace_s * 1000))


async def end_dropped(deps: ChatDeps) -> int:
    """End the contacts of customers whose grace period ran out. Claimed ones whose
    contact.ended Kafka did not take go back on the schedule: tried again next time."""
    due = await deps.store.claim_due_abandons(now_ms())
    for i, cid in enumerate(due):
        try:
            await leave(deps, cid, "customer_disconnected")
        except BaseException:
            for back in due[i:]:
                await deps.store.schedule_abandon(back, now_ms())
            raise
        metrics.CUSTOMERS_DROPPED.inc()
    return len(due)
