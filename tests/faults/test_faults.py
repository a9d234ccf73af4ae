"""The fault suite: three router replicas under load through kill -9s, a pause longer
than the Kafka session timeout, a Redis restart, a broker restart and a replica joining;
then the invariant checker must find nothing lost, double-assigned or over capacity
(tests/faults/chaos.py runs it; `make chaos` is the longer run)."""

import asyncio
import os

import pytest

from tests.faults.chaos import Chaos, describe, run
from tests.infra import REPO, local_infra_module

pytestmark = pytest.mark.faults
STATE, LOGS = REPO / ".omniroute" / "faults-infra", REPO / ".omniroute" / "faults-logs"


async def test_replicas_killed_paused_and_restarted_under_load_lose_and_double_assign_nothing():
    LOGS.mkdir(parents=True, exist_ok=True)
    infra = local_infra_module()
    env = await asyncio.to_thread(infra.up, STATE)  # its own Kafka and Redis: they get restarted
    chaos = Chaos({**os.environ, **env}, STATE, LOGS, infra)
    try:
        report = await run(chaos, replicas=3, agents=12, rate=6, seconds=60, kills=10)
    finally:
        chaos.stop_all()
        await asyncio.to_thread(infra.down, STATE)
    print(describe(chaos, report))
    assert report.ok, describe(chaos, report) + "\n" + "\n".join(
        report.lost[:10] + report.double_assigned[:10] + report.over_capacity[:10] + report.disagreements[:10])
    assert report.contacts >= chaos.tally.contacts > 200
    assert chaos.tally.faults["kill -9 replica"] >= 10
    assert {"redis restart", "kafka restart", "replica joined mid-load"} <= set(chaos.tally.faults)
