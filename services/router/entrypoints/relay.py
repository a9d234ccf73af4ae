"""Publishes the outbox: every replica relays (a consumer group shares the entries),
and now and then takes over entries a crashed replica read but never acknowledged."""

from __future__ import annotations

from shared.loops import Loop

from ..domain.commands import RelayOutbox
from ..messagebus import MessageBus, named


def outbox_relay(bus: MessageBus) -> Loop:
    # Each step blocks in Redis up to half a second when there is nothing to publish.
    return Loop(named("outbox-relay", bus), lambda: bus.handle(RelayOutbox(claim_abandoned=True)), pause_s=0)
