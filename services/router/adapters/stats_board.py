"""This replica's latest stats report, its recent samples for plots, and the ops
WebSocket subscribers waiting for the next report (in memory: every replica computes
its own from the shared aggregates)."""

from __future__ import annotations

import asyncio
from collections import deque

HISTORY = 720  # report samples kept for the ops page plots (an hour at 5 s)
SAMPLE_MS = 5000


def sample(snap: dict) -> dict:
    """The little the ops page plots over time."""
    return {
        "t": snap["now_ms"],
        "waiting": {f"{r['queue']}/{r['channel']}": r["waiting"] for r in snap["queues"]},
        "sl": {f"{r['queue']}/{r['channel']}": r["15m"]["service_level"] for r in snap["queues"]},
        "agents": snap["center"]["agents"],
    }


class StatsBoard:
    def __init__(self):
        self.latest: dict | None = None
        self.history: deque = deque(maxlen=HISTORY)
        self.subscribers: set[asyncio.Queue] = set()
        self.projected = 0  # events projected here: lets tests and demos wait for catch-up

    def post(self, snap: dict) -> None:
        self.latest = snap
        if not self.history or snap["now_ms"] - self.history[-1]["t"] >= SAMPLE_MS:
            self.history.append(sample(snap))
        for q in list(self.subscribers):
            if q.full():
                q.get_nowait()  # a slow subscriber gets the newest report, not a backlog
            q.put_nowait(snap)

    def subscribe(self) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue(maxsize=2)
        self.subscribers.add(q)
        return q

    def unsubscribe(self, q: asyncio.Queue) -> None:
        self.subscribers.discard(q)
