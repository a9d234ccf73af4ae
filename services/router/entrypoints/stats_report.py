"""Recomputes the stats report on a beat: exported to Prometheus, pushed to the ops
page's subscribers, with the consumers' lag beside it."""

from __future__ import annotations

from shared import metrics
from shared.loops import Consumer, Loop

from ..domain.commands import RefreshStats
from ..messagebus import MessageBus, named


def report_loop(bus: MessageBus, interval_ms: int, lagging: dict[str, tuple[Consumer, str]]) -> Loop:
    """`lagging`: service name -> (consumer, group) whose lag is recorded each beat."""

    async def step() -> None:
        await bus.handle(RefreshStats())
        for service, (consumer, group) in lagging.items():
            await metrics.record_consumer_lag(consumer.consumer, service, group)

    return Loop(named("ops-report", bus), step, pause_s=interval_ms / 1000)
