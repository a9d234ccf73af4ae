"""Background entrances of a service: a loop that runs a step on a beat, and a Kafka
consumer that hands each record to a handler. Each can say whether it is alive."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer

from shared import consumer_loop, kafka
from shared import logging as log
from shared.lifecycle import cancel_tasks, stop_within

logger = log.get("loops")


def dead(entrances) -> list[str]:
    """The names of the loops and consumers among `entrances` that have ended."""
    return [e.name for e in entrances if not e.alive()]


class Loop:
    """Runs `step()` forever, `pause_s` apart; a failing step is logged and retried."""

    def __init__(self, name: str, step: Callable[[], Awaitable[object]], pause_s: float, *, pause_first=False):
        self.name, self.step, self.pause_s, self.pause_first = name, step, pause_s, pause_first
        self.task: asyncio.Task | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        await cancel_tasks([self.task])

    def alive(self) -> bool:
        return self.task is not None and not self.task.done()

    async def _run(self) -> None:
        if self.pause_first:
            await asyncio.sleep(self.pause_s)
        while True:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("loop_step_failed", loop=self.name)
                await asyncio.sleep(max(self.pause_s, 1.0))
                continue
            if self.pause_s:
                await asyncio.sleep(self.pause_s)


class Consumer:
    """A Kafka consumer feeding a handler. `dead_letter_with` (a producer): a record that
    can't be handled goes to the dead-letter topic and the consumer moves on (the
    routing consumer); without it the record is logged and skipped (read-side views)."""

    def __init__(self, name: str, consumer: AIOKafkaConsumer, handle, dead_letter_with=None,
                 batches_every_s: float | None = None, commit: bool = True, types: frozenset[str] | None = None):
        self.name, self.consumer, self.handle, self.producer = name, consumer, handle, dead_letter_with
        self.batches_every_s = batches_every_s  # set: `handle` takes whole batches (read-side views)
        self.commit = commit  # False: a view that starts at the latest offset needs no commits
        self.types = types  # a view's event types; others are skipped undecoded
        self.task: asyncio.Task | None = None

    async def start(self) -> None:
        await self.consumer.start()
        if self.producer is not None:
            run = consumer_loop.run(self.consumer, self.producer, self.handle, self.name)
        elif self.batches_every_s is not None:
            run = consumer_loop.run_view_batches(self.consumer, self.handle, self.name, self.batches_every_s)
        else:
            run = consumer_loop.run_view(self.consumer, self.handle, self.name, commit=self.commit, types=self.types)
        self.task = asyncio.create_task(run, name=self.name)

    async def stop(self) -> None:
        await cancel_tasks([self.task])
        await stop_within(self.consumer.stop(), f"{self.name} consumer")

    def alive(self) -> bool:
        return self.task is not None and not self.task.done()

    def joined(self) -> bool:
        """In its group, with partitions or as a standby beyond the partition count."""
        return kafka.joined(self.consumer)
