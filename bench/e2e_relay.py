"""The baseline for `make bench-e2e`: the least a Kafka service can do, run on the same
broker at the same time as the router: consume one topic, produce each record to
another with acks=all (idempotent), commit after the batch is acknowledged.

    python bench/e2e_relay.py --bootstrap 127.0.0.1:9092 --source bench.relay.in --target bench.relay.out
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shared.admin import ensure_topics  # noqa: E402
from shared.kafka import make_consumer, make_producer  # noqa: E402


async def main(args) -> None:
    await ensure_topics(args.bootstrap, names=[args.source, args.target], partitions=3)
    producer = make_producer(args.bootstrap)
    consumer = make_consumer(args.bootstrap, args.group, args.source, auto_offset_reset="latest")
    await producer.start()
    await consumer.start()
    print("ready", flush=True)
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=500, max_records=500)
            sends = [await producer.send(args.target, value=r.value, key=r.key)
                     for records in batch.values() for r in records]
            if sends:
                await asyncio.gather(*sends)
                await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--source", default="bench.relay.in")
    p.add_argument("--target", default="bench.relay.out")
    p.add_argument("--group", default="bench-relay")
    asyncio.run(main(p.parse_args()))
