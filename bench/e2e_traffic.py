"""Contact traffic for `make bench-e2e`, in a process of its own: Poisson arrivals of
`contact.created` on omniroute.contacts, and the time each waits until its
`offer.issued` reaches this process's consumer of omniroute.routing. Beside it, at the
same rate, records through the baseline relay (bench/e2e_relay.py), timed the same way.

steady: warm-up, then a measurement window (prints `window_start` / `window_end` so the
        orchestrator can read the router's CPU and Redis counters at those instants),
        then the routed contacts of the window are awaited and percentiles printed.
burst:  N contacts at once; waits until all are queued, then (after the orchestrator
        frees the agents) counts offers per second until all are offered.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import resource
import sys
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shared import topics  # noqa: E402
from shared.admin import ensure_topics  # noqa: E402
from shared.cloudevents import encode, new_event  # noqa: E402
from shared.events import ContactCreated, Customer, event_type  # noqa: E402
from shared.kafka import make_producer  # noqa: E402

OFFERED = event_type("offer.issued").encode()
QUEUED = event_type("contact.queued").encode()
RELAY_IN, RELAY_OUT = "bench.relay.in", "bench.relay.out"
INTENTS = ["general", "general", "billing"]


def say(**event) -> None:
    print(json.dumps(event), flush=True)


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def percentiles(ms: list[float]) -> dict:
    if not ms:
        return {"n": 0}
    s = sorted(ms)
    at = lambda p: s[min(len(s) - 1, int(p / 100 * len(s)))]  # noqa: E731
    return {"n": len(s), "p50": round(at(50), 1), "p90": round(at(90), 1), "p99": round(at(99), 1),
            "max": round(s[-1], 1)}


async def tail(bootstrap: str, topic: str) -> AIOKafkaConsumer:
    """A consumer of every partition of `topic`, positioned at its end now."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    await consumer._client.force_metadata_update()  # as tests/support/kafka_watch.py does
    parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
    if not parts:
        await consumer.stop()
        raise RuntimeError(f"topic {topic} has no partitions")
    consumer.assign(parts)
    await consumer.seek_to_end(*parts)
    for tp in parts:
        await consumer.position(tp)
    return consumer


class Traffic:
    def __init__(self, args):
        self.args = args
        self.domains = args.domains.split(",")  # contact n goes to domain n mod D
        self.run = uuid.uuid4().hex[:6]
        self.sent: dict[str, float] = {}  # contact id -> send time
        self.offered: dict[str, float] = {}  # contact id -> first offer.issued seen
        self.queued: set[str] = set()
        self.relay_sent: dict[str, float] = {}
        self.relay_got: dict[str, float] = {}
        self.errors = 0
        self.pending: set[asyncio.Task] = set()
        self.numbers = itertools.count()  # ids unique across warm-up and window

    async def start(self) -> None:
        a = self.args
        await ensure_topics(a.bootstrap, names=[RELAY_IN, RELAY_OUT], partitions=3)
        self.producer = make_producer(a.bootstrap)
        await self.producer.start()
        self.routing = await tail(a.bootstrap, topics.ROUTING)
        self.relayed = await tail(a.bootstrap, RELAY_OUT)
        self.readers = [asyncio.create_task(self._read_routing()), asyncio.create_task(self._read_relay())]

    async def _read_routing(self) -> None:
        while True:
            for records in (await self.routing.getmany(timeout_ms=200, max_records=1000)).values():
                now = time.perf_counter()
                for r in records:
                    kind = dict(r.headers).get("ce_type")
                    if kind == OFFERED:
                        cid = r.key.decode()
                        if cid in self.sent and cid not in self.offered:
                            self.offered[cid] = now
                    elif kind == QUEUED:
                        self.queued.add(r.key.decode())

    async def _read_relay(self) -> None:
        while True:
            for records in (await self.relayed.getmany(timeout_ms=200, max_records=1000)).values():
                now = time.perf_counter()
                for r in records:
                    self.relay_got.setdefault(r.key.decode(), now)

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _contact(self, n: int, channel: str = "chat") -> None:
        cid = f"e2e-{self.run}-{n}"
        data = ContactCreated(id=cid, channel=channel, intent=random.choice(INTENTS),
                              customer=Customer(id=f"cust-{random.randint(1, 100_000)}", address="x"))
        domain = self.domains[n % len(self.domains)]
        key, value, headers = encode(new_event(event_type("contact.created"), data, source="bench", key=cid,
                                               domain=domain))
        self.sent[cid] = time.perf_counter()
        try:
            await self.producer.send_and_wait(topics.CONTACTS, value=value, key=key, headers=headers)
        except Exception:
            self.errors += 1

    async def _relay_record(self, n: int) -> None:
        rid = f"r-{self.run}-{n}"
        self.relay_sent[rid] = time.perf_counter()
        try:
            await self.producer.send_and_wait(RELAY_IN, value=b'{"n": %d}' % n, key=rid.encode())
        except Exception:
            self.errors += 1

    async def poisson(self, seconds: float, make) -> None:
        """Arrivals at `rate` per second for `seconds`, each sent without waiting for the last."""
        end = time.perf_counter() + seconds
        while (now := time.perf_counter()) < end:
            self._spawn(make(next(self.numbers)))
            await asyncio.sleep(max(0.0, random.expovariate(self.args.rate) - (time.perf_counter() - now)))

    async def steady(self) -> dict:
        a = self.args
        both = lambda s: asyncio.gather(self.poisson(s, self._contact), self.poisson(s, self._relay_record))  # noqa: E731
        await both(a.warmup)
        window_contacts, window_relay = set(self.sent), set(self.relay_sent)
        say(event="window_start")
        cpu0 = cpu_s()
        await both(a.duration)
        say(event="window_end")
        cpu = cpu_s() - cpu0
        window_contacts = set(self.sent) - window_contacts
        window_relay = set(self.relay_sent) - window_relay
        deadline = time.perf_counter() + a.drain
        while time.perf_counter() < deadline and not (window_contacts <= set(self.offered)
                                                      and window_relay <= set(self.relay_got)):
            await asyncio.sleep(0.1)
        route = [(self.offered[c] - self.sent[c]) * 1000 for c in window_contacts if c in self.offered]
        relay = [(self.relay_got[r] - self.relay_sent[r]) * 1000 for r in window_relay if r in self.relay_got]
        return {"contacts": len(window_contacts), "unrouted": len(window_contacts - set(self.offered)),
                "time_to_route_ms": percentiles(route), "relay_ms": percentiles(relay),
                "relay_lost": len(window_relay - set(self.relay_got)), "send_errors": self.errors,
                "cpu_s": round(cpu, 2), "window_s": a.duration}

    async def burst(self) -> dict:
        a = self.args
        gate = asyncio.Semaphore(200)

        async def one(n: int) -> None:
            async with gate:
                await self._contact(n)

        await asyncio.gather(*(one(n) for n in range(a.burst)))
        deadline = time.perf_counter() + 300
        while len(self.queued & set(self.sent)) < a.burst and time.perf_counter() < deadline:
            await asyncio.sleep(0.2)
        say(event="all_queued", queued=len(self.queued & set(self.sent)))
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # "go": agents are freed
        start, per_second, last = time.perf_counter(), [], 0
        deadline = start + 600
        while len(self.offered) < a.burst and time.perf_counter() < deadline:
            await asyncio.sleep(1.0)
            per_second.append(len(self.offered) - last)
            last = len(self.offered)
        drained = time.perf_counter() - start
        steady = sorted(per_second[:-1] or per_second)
        return {"contacts": a.burst, "offered": len(self.offered), "drain_s": round(drained, 1),
                "decisions_per_s": round(len(self.offered) / drained, 1),
                "per_second_min_median_max": [steady[0], steady[len(steady) // 2], steady[-1]] if steady else [],
                "first_seconds": per_second[:5]}


async def main(args) -> None:
    traffic = Traffic(args)
    await traffic.start()
    say(event="ready")
    result = await (traffic.burst() if args.burst else traffic.steady())
    say(event="done", **result)
    for t in traffic.readers:
        t.cancel()
    await traffic.producer.stop()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--domains", default="default", help="routing domains, comma-separated")
    p.add_argument("--rate", type=float, default=20.0, help="contacts (and relay records) per second")
    p.add_argument("--warmup", type=float, default=10.0)
    p.add_argument("--duration", type=float, default=30.0)
    p.add_argument("--drain", type=float, default=20.0)
    p.add_argument("--burst", type=int, default=0, help="burst mode: this many contacts at once")
    asyncio.run(main(p.parse_args()))
