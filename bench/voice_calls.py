"""Concurrent calls through the real stack: sipp -> voice gateway (SIP, Kafka ack before
the answer) -> router (Redis). Prints time to all answered and setup-time percentiles.

    OMNIROUTE_KAFKA_BOOTSTRAP=... OMNIROUTE_REDIS_URL=... python bench/voice_calls.py [calls] [--tcp]

Starts its own router and voice gateway in-process (free SIP port) on that Kafka and
Redis; use a dedicated infra (`make infra-up`), since it adds contacts there.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/ helpers: sipp runner, Kafka watch

from services.router.app import create_app as router_app  # noqa: E402
from services.router.settings import RouterSettings  # noqa: E402
from services.voice_gateway.adapters import metrics  # noqa: E402
from services.voice_gateway.bootstrap import build  # noqa: E402
from services.voice_gateway.settings import VoiceSettings  # noqa: E402
from shared import topics  # noqa: E402
from tests.support.kafka_watch import Watch  # noqa: E402
from tests.support.poll import service_ready, until  # noqa: E402
from tests.voice import sipp  # noqa: E402

HOLD_MS = 5000  # long enough that every call is up at once
LAUNCH_RATE = 1000  # calls/s: all 50 start within ~50 ms


def pct(xs: list[float], p: int) -> float:
    return statistics.quantiles(xs, n=100, method="inclusive")[p - 1] if len(xs) > 1 else xs[0]


def answered() -> int:
    return int(next(s.value for s in metrics.SETUP_SECONDS.collect()[0].samples if s.name.endswith("_count")))


async def main(calls: int, tcp: bool) -> None:
    rs = RouterSettings(router_group=f"bench-{uuid.uuid4().hex[:6]}", offset_reset="latest", log_level="WARNING")
    app = router_app(rs)
    async with app.router.lifespan_context(app):
        await until(lambda: service_ready(app.state.service), 30, what="router ready")
        voice = build(VoiceSettings(sip_host="127.0.0.1", sip_port=sipp.free_port(), log_level="WARNING"))
        await voice.start()
        await until(lambda: service_ready(voice), 30, what="voice gateway ready")
        async with Watch(rs.kafka_bootstrap, topics.ROUTING) as routing:
            before = answered()
            started = time.monotonic()
            run = await sipp.run("caller_hangup.xml", voice.sip.port, Path(tempfile.mkdtemp(prefix="voice-bench-")),
                                 calls=calls, concurrent=calls, rate=LAUNCH_RATE, hold_ms=HOLD_MS, tcp=tcp,
                                 keys={"caller": "+15559000", "service": "1000"})
            await until(lambda: answered() - before >= calls, 60, interval=0.005, what="all calls answered")
            all_answered = time.monotonic() - started
            await run.done(timeout=120)
            queued = await until(lambda: {e.data.contact_id for e in routing.of("contact.queued", channel="voice")}
                                 if len(routing.of("contact.queued", channel="voice")) >= calls else None,
                                 30, what="router contacts")
            abandoned = await until(lambda: len(routing.of("contact.abandoned", channel="voice")) >= calls
                                    and len(routing.of("contact.abandoned", channel="voice")), 30, what="hang-ups")
        await voice.stop()
        rtts = run.rtts()
        print(f"voice calls: {calls} concurrent over {'TCP' if tcp else 'UDP'} (sipp, launched at {LAUNCH_RATE}/s)")
        print(f"  sipp exit code        {run.proc.returncode} ({'every call answered and ended' if run.ok else 'FAILED'})")
        print(f"  time to all answered  {all_answered * 1000:.0f} ms")
        if rtts:
            print(f"  setup INVITE->200 OK  p50 {pct(rtts, 50):.1f} ms  p99 {pct(rtts, 99):.1f} ms  max {max(rtts):.1f} ms"
                  f"  (n={len(rtts)}, includes the Kafka ack of contact.created)")
        print(f"  router contacts       {len(queued)} queued, {abandoned} abandoned on hang-up", flush=True)
        if not run.ok or len(queued) != calls:
            print(run.explain())
            sys.exit(1)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    asyncio.run(main(int(args[0]) if args else 50, "--tcp" in sys.argv))
