"""Mail through the real email gateway: SMTP DATA -> parse, thread, spool -> Kafka ack ->
250. Prints the time-to-250 percentiles (what a sending MTA waits) and throughput.

    OMNIROUTE_KAFKA_BOOTSTRAP=... OMNIROUTE_REDIS_URL=... python bench/email_intake.py [mails] [concurrency]

Starts the gateway in-process (free SMTP port, acks to a local sink) on that Kafka and
Redis; use a dedicated infra (`make infra-up`), since it adds cases and contacts there.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
from aiosmtpd.smtp import SMTP

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.email_gateway.bootstrap import build  # noqa: E402
from services.email_gateway.settings import EmailSettings  # noqa: E402
from shared import logging as log  # noqa: E402

SUPPORT = "support@bench.test"


class Sink:
    received = 0

    async def handle_DATA(self, server, session, envelope):
        self.received += 1
        return "250 OK"


def pct(xs: list[float], p: int) -> float:
    return statistics.quantiles(xs, n=100, method="inclusive")[p - 1] if len(xs) > 1 else xs[0]


def mail(i: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"] = f"customer{i % 50}@example.com", SUPPORT
    msg["Subject"], msg["Message-ID"] = f"Bench {i}", f"<bench-{uuid.uuid4().hex}@example.com>"
    msg.set_content("Where is my order?\n" * 20)
    return msg


async def main(mails: int, concurrency: int) -> None:
    log.configure("WARNING")
    sink = Sink()
    relay = await asyncio.get_running_loop().create_server(lambda: SMTP(sink), "127.0.0.1", 0)
    settings = EmailSettings(smtp_port=0, email_addresses={SUPPORT: "general"}, email_ack_limit=1000,
                             smtp_relay_port=relay.sockets[0].getsockname()[1],
                             email_group=f"bench-email-{uuid.uuid4().hex[:8]}", offset_reset="latest")
    gw = build(settings)
    await gw.start()
    gate, times = asyncio.Semaphore(concurrency), []

    async def send(i: int) -> None:
        async with gate:
            t0 = time.perf_counter()
            await aiosmtplib.send(mail(i), hostname="127.0.0.1", port=gw.smtp_port)
            times.append((time.perf_counter() - t0) * 1000)

    try:
        start = time.perf_counter()
        await asyncio.gather(*(send(i) for i in range(mails)))
        took = time.perf_counter() - start
    finally:
        await gw.stop()
        relay.close()
    print(f"{mails} mails, concurrency {concurrency}: {mails / took:.0f} mails/s, time to 250 (ms) "
          f"p50 {pct(times, 50):.1f} p95 {pct(times, 95):.1f} p99 {pct(times, 99):.1f} max {max(times):.1f}; "
          f"acks delivered {sink.received}")


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    c = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    asyncio.run(main(n, c))
