"""Outages pause the router; they never lose a contact or an event (docs/architecture.md: reliability).
The broker and Redis are paused with SIGSTOP by the pid the test tooling started."""

import asyncio
import contextlib
import os
import signal

import pytest

from tests.infra import TEST_STATE, local_infra_module
from tests.support.tools import under_ci

pytestmark = [pytest.mark.integration, pytest.mark.single_node]
OUTAGE_S = 3  # how long the outage lasts; the assertions poll, they don't time this


@pytest.fixture
def pid_of(infra):
    if getattr(infra, "source", "") != "local":
        message = "pausing needs the Kafka and Redis this test run started itself"
        pytest.fail(message) if under_ci() else pytest.skip(message)
    running = local_infra_module().running
    return lambda name: running(TEST_STATE / "pids" / f"{name}.pid")


@contextlib.contextmanager
def paused(pid: int):
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


async def test_a_contact_arriving_while_redis_is_paused_is_routed_after(harness, pid_of):
    await harness.agent("ann", {"support": 1})
    with paused(pid_of("redis")):
        cid = await harness.contact()  # Kafka takes it; the router can't store it yet
        await asyncio.sleep(OUTAGE_S)
    offer = await harness.routing.wait("offer.issued", contact_id=cid, timeout=60)
    assert offer.data.agent_id == "ann"


async def test_events_of_a_transition_made_while_kafka_is_paused_reach_kafka_after(harness, pid_of):
    ann = await harness.agent("ann", {"support": 1})
    cid = await harness.contact()
    offer = await harness.routing.wait("offer.issued", contact_id=cid)
    with paused(pid_of("kafka")):
        # The transition commits in Redis with its events in the outbox; the relay waits.
        r = await harness.http.post(f"/v1/offers/{offer.data.offer_id}/accept", headers=ann)
        assert r.status_code == 200
        await asyncio.sleep(OUTAGE_S)
    assigned = await harness.routing.wait("contact.assigned", contact_id=cid, timeout=90)
    assert assigned.data.agent_id == "ann"
    # At least once: a publish repeated after the outage keeps its id, so consumers dedupe it.
    assert {e.id for e in harness.routing.of("contact.assigned", contact_id=cid)} == {assigned.id}


async def test_a_request_meeting_a_paused_redis_gets_503_with_retry_after_not_500(infra, redis, pid_of):
    from tests.support.router_harness import ADMIN, running_router

    async with running_router(infra, redis_socket_timeout_s=1.0) as h:
        with paused(pid_of("redis")):
            r = await h.http.get("/v1/contacts/c-anything", headers=ADMIN)
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"] == "1"
        assert (await h.http.get("/v1/contacts/c-anything", headers=ADMIN)).status_code == 404  # back
        metrics = await h.http.get("/metrics")  # itself, not a 307 to /metrics/
        assert metrics.status_code == 200 and "omniroute_" in metrics.text
