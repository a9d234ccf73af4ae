"""Self-service before a chat: the articles of the topic's queue that best match the
customer's question. "This solved it" ends there (counted as a deflection) and the chat
never reaches the queue; "I still need to chat" starts it as usual."""

from __future__ import annotations

import uuid

from shared.events import CHAT, DeflectionAccepted, DeflectionOffered

from ..adapters import metrics
from ..domain.chat import TOPICS
from .deps import ChatDeps

OFFER_TTL_S = 1800  # "this solved it" is taken this long after the articles were shown


class NotOffered(LookupError):
    """No such suggestion offer (expired, already answered), or not that article in it."""


async def suggest(deps: ChatDeps, topic: str, text: str) -> dict:
    """The best articles for `text` in the topic's queue; an offer id when there are any."""
    intent = TOPICS[topic][1]
    queue = deps.policy.queue_for(intent, CHAT)
    found = deps.knowledge.suggest(queue, text)
    if not found:
        return {"offer_id": None, "articles": []}
    offer_id = f"defl-{uuid.uuid4().hex}"
    ids = [s.id for s in found]
    await deps.store.offer_articles(offer_id, queue, ids, OFFER_TTL_S)
    await deps.publisher.emit("deflection.offered", DeflectionOffered(
        id=offer_id, queue=queue, channel=CHAT, intent=intent, articles=ids), key=offer_id)
    metrics.DEFLECTIONS.labels(queue=queue, outcome="offered").inc()
    return {"offer_id": offer_id, "articles": [s.view() for s in found]}


async def solved(deps: ChatDeps, offer_id: str, article_id: str) -> None:
    """The customer's question is answered by one of the articles shown: counted once."""
    offer = await deps.store.take_articles(offer_id)
    if offer is None:
        raise NotOffered("this suggestion is unknown, expired or already answered")
    queue, ids = offer
    if article_id not in ids:
        raise NotOffered(f"article {article_id!r} was not among those shown")
    await deps.publisher.emit("deflection.accepted", DeflectionAccepted(
        id=offer_id, queue=queue, channel=CHAT, article_id=article_id), key=offer_id)
    metrics.DEFLECTIONS.labels(queue=queue, outcome="accepted").inc()
