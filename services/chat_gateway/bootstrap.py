"""The one wiring point of the chat gateway: the Kafka side (a ChannelGateway), the
conversation store, the customers' sockets, and the loop that ends dropped chats."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from shared.cloudevents import Envelope
from shared.events import CHAT
from shared.gateway import ChannelGateway
from shared.loops import Loop, dead
from shared.redis_client import connect
from shared.sockets import SocketHub

from .adapters.store import ChatStore
from .handlers import conversations, events
from .handlers.deps import ChatDeps
from .settings import ChatSettings

ABANDON_TICK_S = 0.5


class ChatGateway(ChannelGateway):
    channel = CHAT

    def __init__(self, settings: ChatSettings, **kw):
        super().__init__(settings, **kw)
        self.deps: ChatDeps | None = None  # set by build

    async def handle(self, event: Envelope) -> None:
        await events.handle(event, self.deps)


@dataclass
class ChatService:
    gateway: ChatGateway
    deps: ChatDeps
    redis: Redis
    abandons: Loop

    async def start(self) -> None:
        await self.gateway.start()
        await self.abandons.start()

    async def stop(self) -> None:
        await self.abandons.stop()
        await self.gateway.stop()
        await self.redis.aclose()

    def dead_loops(self) -> list[str]:
        return self.gateway.dead_loops() + dead([self.abandons])

    async def readiness(self) -> dict:
        await self.redis.ping()
        return {"ready": self.gateway.ready() and self.abandons.alive()}


def build(settings: ChatSettings) -> ChatService:
    redis = connect(settings)
    gateway = ChatGateway(settings)
    deps = ChatDeps(publisher=gateway, store=ChatStore(redis), hub=SocketHub(), settings=settings)
    gateway.deps = deps
    # Ends the contacts of customers whose socket dropped and who did not come back.
    abandons = Loop("abandon", lambda: conversations.end_dropped(deps), ABANDON_TICK_S)
    return ChatService(gateway=gateway, deps=deps, redis=redis, abandons=abandons)
