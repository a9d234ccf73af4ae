"""The ops entrypoint: a consumer of omniroute.routing, .agents and .contacts with its
own group that projects events into `st:` aggregates, and a loop that recomputes the
report, exports it to Prometheus and pushes it to WebSocket subscribers."""

from __future__ import annotations

import asyncio
from collections import deque
from zoneinfo import ZoneInfo

from aiokafka import AIOKafkaConsumer

from shared import consumer_loop, topics
from shared import logging as log
from shared import metrics as shared_metrics
from shared.cloudevents import Envelope
from shared.kafka import make_consumer
from shared.lifecycle import cancel_tasks, stop_within

from . import metrics
from .adapters.router_view import eligible_agents
from .adapters.store import StatsStore
from .domain import report, stats, windows
from .settings import OpsSettings

logger = log.get("router.ops")
HISTORY = 720  # report samples kept for the ops page plots (an hour at 5 s)
SAMPLE_MS = 5000


class Ops:
    def __init__(self, router, settings: OpsSettings | None = None):
        self.router = router
        self.settings = settings or OpsSettings()
        self.tz = ZoneInfo(self.settings.stats_timezone)
        self.store = StatsStore(router.redis)
        self.group = f"{router.settings.router_group}-stats"
        self.consumer: AIOKafkaConsumer = make_consumer(
            router.settings.kafka_bootstrap, self.group, topics.ROUTING, topics.AGENTS, topics.CONTACTS,
            auto_offset_reset=router.settings.offset_reset)
        self.latest: dict | None = None
        self.history: deque = deque(maxlen=HISTORY)
        self.subscribers: set[asyncio.Queue] = set()
        self.tasks: list[asyncio.Task] = []
        self.handled = 0

    def config(self) -> stats.Config:
        policy = self.router.policy  # read each time: the policy may be reloaded
        sla = {(q, ch): int(s.target_s * 1000) for q, qp in policy.queues.items() for ch, s in qp.sla.items()}
        return stats.Config(sla_ms=sla, short_abandon_ms=int(self.settings.short_abandon_s * 1000), tz=self.tz,
                            costs={ch: c.cost for ch, c in policy.channels.items()})

    async def start(self) -> None:
        await self.consumer.start()
        self.tasks = [asyncio.create_task(consumer_loop.run_view(self.consumer, self.handle, "router-stats"), name="ops-projector"),
                      asyncio.create_task(self._report_loop(), name="ops-report")]

    async def stop(self) -> None:
        await cancel_tasks(self.tasks)
        await stop_within(self.consumer.stop(), "stats consumer")

    def assigned(self) -> bool:
        return bool(self.consumer.assignment())

    # -- projection ---------------------------------------------------------------------
    async def handle(self, env: Envelope) -> bool:
        at = int(env.time.timestamp() * 1000)
        cfg = self.config()
        done = await self.store.apply(f"{env.source}:{env.id}", env.type, env.data, at, cfg)
        self.handled += 1  # lets tests and demos wait for the projection to catch up
        if done is None:
            return False
        metrics.observe(env.type, env.data, at, done[1], cfg)
        return True

    # -- report -------------------------------------------------------------------------
    async def report(self) -> dict:
        now = await self.router.state.server_time_ms()
        policy = self.router.policy
        pairs = [(q, ch) for q, qp in policy.queues.items() for ch in qp.channels]
        sla = {}
        for q, ch in pairs:
            s = policy.queues[q].sla.get(ch)
            sla[(q, ch)] = (s.target_s, s.percent) if s else (0.0, 0.0)
        buckets = await self.store.buckets([*pairs, stats.CENTER], now, windows.day_of(now, self.tz))
        return report.build(
            now, self.tz, sla, buckets, await self.store.waiting(pairs), await self.store.agents(),
            await self.store.work(), await eligible_agents(self.router.state, policy))

    async def refresh(self) -> dict:
        snap = await self.report()
        self.latest = metrics.COLLECTOR.snapshot = snap
        if not self.history or snap["now_ms"] - self.history[-1]["t"] >= SAMPLE_MS:
            self.history.append(sample(snap))
        for q in list(self.subscribers):
            if q.full():
                q.get_nowait()  # a slow subscriber gets the newest report, not a backlog
            q.put_nowait(snap)
        return snap

    async def _report_loop(self) -> None:
        interval = self.settings.stats_interval_ms / 1000
        while True:
            try:
                await self.refresh()
                await shared_metrics.record_consumer_lag(self.router.consumer, "router", self.router.settings.router_group)
                await shared_metrics.record_consumer_lag(self.consumer, "router-stats", self.group)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("stats_report_failed")
            await asyncio.sleep(interval)

    def subscribe(self) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue(maxsize=2)
        self.subscribers.add(q)
        return q

    def unsubscribe(self, q: asyncio.Queue) -> None:
        self.subscribers.discard(q)


def sample(snap: dict) -> dict:
    """The little the ops page plots over time."""
    return {
        "t": snap["now_ms"],
        "waiting": {f"{r['queue']}/{r['channel']}": r["waiting"] for r in snap["queues"]},
        "sl": {f"{r['queue']}/{r['channel']}": r["15m"]["service_level"] for r in snap["queues"]},
        "agents": snap["center"]["agents"],
    }
