"""The router's one door: every message, whichever entrance it came by, goes through
`MessageBus.handle` to the one handler registered for its type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from .domain.commands import Message
from .handlers.deps import RouterDeps

Handler = Callable[[Any, RouterDeps], Awaitable[Any]]


class MessageBus:
    def __init__(self, deps: RouterDeps, handlers: Mapping[type, Handler]):
        self.deps = deps
        self.handlers = dict(handlers)

    async def handle(self, message: Message) -> Any:
        """Run the message's handler and return what it returns; its errors propagate."""
        try:
            handler = self.handlers[type(message)]
        except KeyError:
            raise TypeError(f"no handler for {type(message).__name__}") from None
        return await handler(message, self.deps)
