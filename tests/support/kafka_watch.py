"""Collects every event on some topics from 'now' on, for assertions."""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.cloudevents import Envelope, InvalidEvent, decode

from .poll import until


class Watch:
    def __init__(self, bootstrap: str, *topics: str):
        self.bootstrap, self.topics = bootstrap, topics
        self.events: list[Envelope] = []
        self.raw: list = []
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> Watch:
        self.consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await self.consumer.start()
        tps = []
        for t in self.topics:
            parts = self.consumer.partitions_for_topic(t)
            if not parts:
                await self.consumer._client.force_metadata_update()
                parts = self.consumer.partitions_for_topic(t)
            tps += [TopicPartition(t, p) for p in sorted(parts)]
        self.consumer.assign(tps)
        await self.consumer.seek_to_end(*tps)
        for tp in tps:  # resolve positions now, so nothing produced later is missed
            await self.consumer.position(tp)
        self._task = asyncio.create_task(self._pump())
        return self

    async def __aexit__(self, *exc) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self.consumer.stop()

    async def _pump(self) -> None:
        async for record in self.consumer:
            self.raw.append(record)
            with contextlib.suppress(InvalidEvent):
                self.events.append(decode(record.key, record.value, record.headers))

    def of(self, type_suffix: str, **match) -> list[Envelope]:
        return [
            e for e in self.events
            if e.type == f"omniroute.{type_suffix}.v1"
            and all(getattr(e.data, k) == v for k, v in match.items())
        ]

    async def wait(self, type_suffix: str, timeout: float = 20.0, **match) -> Envelope:
        found = await until(lambda: self.of(type_suffix, **match), timeout, what=f"{type_suffix} {match}")
        return found[0]
