"""Feeds agent desktops: routing, agent and message events pushed to the sockets of
the agent they concern, transcripts stored, each customer's contact history kept.

Every replica reads every event (its own consumer group, from the latest offset): an
agent's socket may be on any replica. A desktop that (re)connects loads a snapshot over
HTTP, so events from before a replica started are not needed here.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer

from shared import consumer_loop, topics
from shared import logging as log
from shared.cloudevents import Envelope, new_event
from shared.events import CHAT, MessagePosted, event_type
from shared.kafka import make_consumer, publish
from shared.lifecycle import cancel_tasks, stop_within
from shared.transcripts import TranscriptStore, message_view

from ..adapters.desk_hub import AgentHub
from ..bootstrap import Router

logger = log.get("router.desktop")
HISTORY_KEEP = 50


def history_key(customer_id: str) -> str:
    return f"or:customer:{customer_id}:history"


@dataclass
class Desk:
    router: Router
    hub: AgentHub
    transcripts: TranscriptStore

    async def contact_summary(self, contact_id: str) -> dict | None:
        c = await self.router.state.get_contact(contact_id)
        if c is None:
            return None
        data = json.loads(c["data"])
        return {
            "id": contact_id, "channel": c["channel"], "queue": c["queue"], "state": c["state"],
            "tier": c["tier"], "intent": c["intent"], "customer": data["customer"],
            "conversation_id": data.get("conversation_id") or contact_id,
        }


# -- handlers: plain functions of (event, desk) ----------------------------------------
async def offer_issued(env: Envelope, desk: Desk) -> None:
    o = env.data
    now = await desk.router.state.server_time_ms()
    await desk.hub.send(o.agent_id, {
        "type": "offer", "offer_id": o.offer_id, "contact_id": o.contact_id, "channel": o.channel,
        "queue": o.queue, "ttl_ms": max(0, o.expires_at_ms - now), "contact": await desk.contact_summary(o.contact_id),
    })


async def offer_closed(env: Envelope, desk: Desk) -> None:
    o = env.data
    outcome = env.type.split(".")[2]  # omniroute.offer.<outcome>.v1
    await desk.hub.send(o.agent_id, {"type": "offer_closed", "offer_id": o.offer_id, "outcome": outcome})


async def contact_assigned(env: Envelope, desk: Desk) -> None:
    a = env.data
    await desk.hub.send(a.agent_id, {"type": "contact_assigned", "contact": await desk.contact_summary(a.contact_id)})
    if a.channel == CHAT:
        await announce_agent(desk, a.contact_id, a.agent_id)


async def announce_agent(desk: Desk, contact_id: str, agent_id: str) -> None:
    """"<agent> joined" in the customer's chat. Every replica sees the assignment; the
    first to claim it posts, and the fixed message id makes a repeat harmless."""
    if not await desk.router.redis.set(f"or:joined:{contact_id}", agent_id, nx=True, ex=86_400):
        return
    summary = await desk.contact_summary(contact_id)
    agent = await desk.router.state.get_agent(agent_id) or {}
    name = agent.get("name") or agent_id
    message = MessagePosted(message_id=f"m-joined-{contact_id}", conversation_id=summary["conversation_id"],
                            contact_id=contact_id, sender="system", author=name, text=f"{name} joined")
    await publish(desk.router.producer, new_event(event_type("message.posted"), message,
                                                  source="omniroute/router", key=message.conversation_id))


async def contact_completed(env: Envelope, desk: Desk) -> None:
    c = env.data
    await desk.hub.send(c.agent_id, {"type": "contact_closed", "contact_id": c.contact_id,
                                     "disposition": c.disposition})


async def contact_queued(env: Envelope, desk: Desk) -> None:
    q = env.data
    key = history_key(q.customer_id)
    async with desk.router.redis.pipeline(transaction=True) as pipe:  # one round trip
        await pipe.zadd(key, {q.contact_id: env.time.timestamp()}).zremrangebyrank(key, 0, -HISTORY_KEEP - 1).execute()


async def agent_state_changed(env: Envelope, desk: Desk) -> None:
    s = env.data
    await desk.hub.send(s.agent_id, {"type": "presence", "state": s.state, "reason": s.reason})


async def message_posted(env: Envelope, desk: Desk) -> None:
    m: MessagePosted = env.data
    await desk.transcripts.append(m)
    contact = await desk.router.state.get_contact(m.contact_id or m.conversation_id)
    if contact and contact.get("agent") and contact.get("state") == "assigned":
        await desk.hub.send(contact["agent"], {"type": "message", **message_view(m)})


HANDLERS = {
    event_type("offer.issued"): offer_issued,
    event_type("offer.accepted"): offer_closed,
    event_type("offer.declined"): offer_closed,
    event_type("offer.expired"): offer_closed,
    event_type("contact.assigned"): contact_assigned,
    event_type("contact.completed"): contact_completed,
    event_type("contact.queued"): contact_queued,
    event_type("agent.state_changed"): agent_state_changed,
    event_type("message.posted"): message_posted,
}


class DesktopFeed:
    def __init__(self, router: Router):
        s = router.settings
        self.desk = Desk(router=router, hub=AgentHub(), transcripts=TranscriptStore(router.redis, "or"))
        self.consumer: AIOKafkaConsumer = make_consumer(
            s.kafka_bootstrap, f"{s.router_group}-desktop-{s.instance}", topics.ROUTING, topics.AGENTS,
            topics.MESSAGES, auto_offset_reset="latest")
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        await self.consumer.start()
        self._task = asyncio.create_task(
            consumer_loop.run_view(self.consumer, self._handle, "router-desktop"), name="desktop-feed"
        )

    async def stop(self) -> None:
        await cancel_tasks([self._task])
        await stop_within(self.consumer.stop(), "desktop feed consumer")

    async def _handle(self, event: Envelope) -> None:
        handler = HANDLERS.get(event.type)
        if handler is not None:
            await handler(event, self.desk)
