"""The router's one door: every message, whichever entrance it came by, goes through
`MessageBus.handle` to the one handler registered for its type, with the dependencies of
one routing domain (`within` gives the bus of another)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from shared.events import DEFAULT_DOMAIN

from .domain.commands import Message
from .domain.errors import UnknownDomain
from .handlers.deps import RouterDeps

Handler = Callable[[Any, RouterDeps], Awaitable[Any]]


class MessageBus:
    def __init__(self, deps: RouterDeps, handlers: Mapping[type, Handler],
                 domains: Mapping[str, RouterDeps] | None = None):
        self.deps = deps
        self.handlers = dict(handlers)
        self.domains = dict(domains or {deps.domain: deps})
        self._buses: dict[str, MessageBus] = {deps.domain: self}

    @property
    def domain(self) -> str:
        return self.deps.domain

    def within(self, domain: str) -> MessageBus:
        """The same handlers over `domain`'s state; UnknownDomain when no policy names it."""
        bus = self._buses.get(domain)
        if bus is None:
            if domain not in self.domains:
                raise UnknownDomain(f"no routing domain {domain!r}")
            bus = MessageBus(self.domains[domain], self.handlers, self.domains)
            bus._buses = self._buses
            self._buses[domain] = bus
        return bus

    async def handle(self, message: Message) -> Any:
        """Run the message's handler and return what it returns; its errors propagate."""
        try:
            handler = self.handlers[type(message)]
        except KeyError:
            raise TypeError(f"no handler for {type(message).__name__}") from None
        return await handler(message, self.deps)


def named(loop: str, bus: MessageBus) -> str:
    """A per-domain loop's name: `timers`, or `timers@acme` beside the default domain's."""
    return loop if bus.domain == DEFAULT_DOMAIN else f"{loop}@{bus.domain}"
