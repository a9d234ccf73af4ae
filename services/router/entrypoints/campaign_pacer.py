"""Paces outbound campaigns: every tick, each running campaign starts what it may (its
hours open, an agent free, its share not used up). Every replica runs it; each start
is one atomic transition, so a target is never started twice."""

from __future__ import annotations

from shared.loops import Loop

from ..domain.commands import PaceCampaigns
from ..messagebus import MessageBus, named


def campaign_pacer(bus: MessageBus, interval_ms: int) -> Loop:
    async def step() -> None:
        await bus.handle(PaceCampaigns())

    return Loop(named("campaigns", bus), step, pause_s=interval_ms / 1000)
