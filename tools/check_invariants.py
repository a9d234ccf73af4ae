"""Audit routing after the fact: `python -m tools.check_invariants`.

Reads the whole event log from Kafka and the routing state from Redis (the addresses
from OMNIROUTE_KAFKA_BOOTSTRAP and OMNIROUTE_REDIS_URL, or --bootstrap/--redis), and
reports lost contacts (created, never finished, in no queue), double assignments,
agents over capacity and state that disagrees with the log
(services/router/domain/invariants.py says exactly what each means). Run it when the
system is quiet: a contact still in flight between Kafka and Redis reads as lost.
Exit status 0 when every invariant holds, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from services.router.adapters.audit import audit_inputs
from services.router.domain.invariants import Report, audit
from shared.events import DEFAULT_DOMAIN

SHOWN = 20  # findings printed per kind


async def check(bootstrap: str, redis_url: str, since_ms: int = 0, domain: str = DEFAULT_DOMAIN) -> Report:
    """One routing domain's audit (its contacts, agents and events)."""
    log, state, created, rejected = await audit_inputs(bootstrap, redis_url, since_ms, domain)
    return audit(log, state, created, rejected)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bootstrap", default=os.environ.get("OMNIROUTE_KAFKA_BOOTSTRAP", "127.0.0.1:9092"))
    p.add_argument("--redis", default=os.environ.get("OMNIROUTE_REDIS_URL", "redis://127.0.0.1:6379/0"))
    p.add_argument("--since", type=float, default=0,
                   help="audit only contacts created since this Unix time (seconds); default: the whole log")
    p.add_argument("--domain", action="append", help="routing domain to audit (repeatable; default: default)")
    p.add_argument("--json", action="store_true", help="print each report as one line of JSON")
    args = p.parse_args(argv)
    ok = True
    for domain in args.domain or [DEFAULT_DOMAIN]:
        report = asyncio.run(check(args.bootstrap, args.redis, int(args.since * 1000), domain))
        ok = ok and report.ok
        if args.json:
            print(json.dumps({"domain": domain, **report.__dict__, "ok": report.ok}))  # a line per domain
            continue
        print(f"{domain}: {report.summary()}")
        for kind in ("lost", "double_assigned", "over_capacity", "disagreements"):
            for finding in getattr(report, kind)[:SHOWN]:
                print(f"  {kind}: {finding}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
