"""Fires due durable timers (offer expiry, steps, max wait, wrap-up, presence). Any
replica may fire any timer: firing re-checks state, so firing twice is harmless."""

from __future__ import annotations

from shared.loops import Loop

from ..domain.commands import DueTimers, FireTimer
from ..messagebus import MessageBus, named


def timer_loop(bus: MessageBus, interval_ms: int) -> Loop:
    async def step() -> None:
        for member in await bus.handle(DueTimers()):
            await bus.handle(FireTimer(member))

    return Loop(named("timers", bus), step, pause_s=interval_ms / 1000)
