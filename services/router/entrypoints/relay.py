"""Publishes the outbox: every replica relays (a consumer group shares the entries),
and now and then takes over entries a crashed replica read but never acknowledged."""

from __future__ import annotations

from itertools import count

from shared.loops import Loop

from ..domain.commands import RelayOutbox
from ..messagebus import MessageBus

CLAIM_EVERY = 20  # relay rounds between takeovers of abandoned entries


def outbox_relay(bus: MessageBus) -> Loop:
    rounds = count()

    async def step() -> None:  # blocks in Redis up to half a second when idle
        await bus.handle(RelayOutbox(claim_abandoned=next(rounds) % CLAIM_EVERY == 0))

    return Loop("outbox-relay", step, pause_s=0)
