"""Conversation transcripts in Redis: an append-only list per conversation.

Appends are idempotent on the message id (Kafka redelivers, and several consumers may
see the same message), so a transcript holds each message exactly once, in the order
it was first stored.
"""

from __future__ import annotations

import json

from pydantic import BaseModel, Field
from redis.asyncio import Redis

from shared.events import MessagePosted

# KEYS: seen-set, list. ARGV: message id, json, ttl seconds. 1 when stored, 0 when known.
_APPEND = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
"""


class TranscriptEntry(BaseModel):
    """One message of a transcript, as the widget, the desktop and both APIs show it."""

    id: str
    conversation_id: str
    contact_id: str | None = None
    sender: str = Field(description="customer, agent or system")
    author: str | None = None
    text: str
    sent_at: str = Field(description="ISO 8601")


def message_view(m: MessagePosted) -> dict:
    """The JSON shape both the widget and the desktop render."""
    return {
        "id": m.message_id, "conversation_id": m.conversation_id, "contact_id": m.contact_id,
        "sender": m.sender, "author": m.author, "text": m.text, "sent_at": m.sent_at.isoformat(),
    }


class TranscriptStore:
    def __init__(self, redis: Redis, prefix: str, ttl_s: int = 30 * 86400):
        self.redis, self.prefix, self.ttl_s = redis, prefix, ttl_s
        self._append = redis.register_script(_APPEND)

    def _keys(self, conversation_id: str) -> list[str]:
        # The conversation is the hash tag: both keys in one cluster slot, for one script.
        base = f"{self.prefix}:transcript:{{{conversation_id}}}"
        return [f"{base}:ids", base]

    async def append(self, message: MessagePosted) -> bool:
        view = json.dumps(message_view(message))
        stored = await self._append(keys=self._keys(message.conversation_id),
                                    args=[message.message_id, view, self.ttl_s])
        return bool(stored)

    async def read(self, conversation_id: str, limit: int = 1000) -> list[dict]:
        raw = await self.redis.lrange(self._keys(conversation_id)[1], -limit, -1)
        return [json.loads(r) for r in raw]
