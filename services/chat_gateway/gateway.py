"""The chat channel on the gateway SDK: Kafka in and out, plus what the web side needs."""

from __future__ import annotations

from dataclasses import dataclass

from shared.cloudevents import Envelope
from shared.events import CHAT
from shared.gateway import ChannelGateway

from .adapters.hub import Hub
from .adapters.store import ChatStore
from .settings import ChatSettings


@dataclass
class Deps:
    gateway: ChatGateway
    store: ChatStore
    hub: Hub
    settings: ChatSettings


class ChatGateway(ChannelGateway):
    channel = CHAT

    def __init__(self, settings: ChatSettings, store: ChatStore, hub: Hub, **kw):
        super().__init__(settings, **kw)
        self.deps = Deps(gateway=self, store=store, hub=hub, settings=settings)

    async def handle(self, event: Envelope) -> None:
        from . import handlers  # handlers import Deps from here

        await handlers.handler_for(event.type)(event, self.deps)
