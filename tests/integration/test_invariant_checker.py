"""`python -m tools.check_invariants` on a real router's log and state: quiet when all is
well, and it names the contact or agent when the state is broken behind its back."""

import asyncio
import json
import os
import subprocess
import sys
import time

import pytest

from services.router.adapters.keys import key
from tests.infra import REPO
from tests.support.poll import until

pytestmark = pytest.mark.integration


async def checker(since: float) -> tuple[int, dict]:
    proc = await asyncio.to_thread(subprocess.run, [
        sys.executable, "-m", "tools.check_invariants", "--since", str(since), "--json"],
        cwd=REPO, env=dict(os.environ), capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


async def test_the_checker_passes_a_quiet_system_and_names_a_lost_contact_and_an_overloaded_agent(harness):
    since = time.time()  # contacts of earlier tests (their state flushed) are not audited
    ann = await harness.agent("ann", {"support": 1})
    served = await harness.contact()
    offer = await harness.routing.wait("offer.issued", contact_id=served)
    assert (await harness.http.post(f"/v1/offers/{offer.data.offer_id}/accept", headers=ann)).status_code == 200
    assert (await harness.http.post(f"/v1/contacts/{served}/complete", headers=ann, json={})).status_code == 200
    assert (await harness.http.put("/v1/agents/ann/state", headers=ann, json={"state": "not_ready"})).status_code == 200
    waiting = await harness.contact()
    await harness.routing.wait("contact.queued", contact_id=waiting)

    async def clean():
        code, report = await checker(since)
        return report if code == 0 and report["contacts"] == 2 else None
    report = await until(clean, 60, interval=0.5, what="a clean audit of both contacts")
    assert (report["finished"], report["lost"], report["double_assigned"]) == (1, [], [])

    c = await harness.redis.hgetall(key("contact", waiting))
    await harness.redis.zrem(key("wait", c[b"queue"].decode(), c[b"step"].decode(), "chat"), waiting)
    await harness.redis.hset(key("agent", "ann"), "load", 500)
    code, report = await checker(since)
    assert code == 1
    assert [f.split(":")[0] for f in report["lost"]] == [waiting]
    assert any(f.startswith("ann: load 500 > capacity") for f in report["over_capacity"])
