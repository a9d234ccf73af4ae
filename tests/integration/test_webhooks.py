"""Signed webhooks on the real router, Kafka and Redis: a receiver that is down for a
while, then slow, gets every routing event it subscribed to once, in order per contact,
with a valid Standard Webhooks signature (checked with the standardwebhooks library); a
failing subscriber's events are given up after the last attempt and logged; routing's
time to route is printed beside it."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
import uvicorn
from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.poll import until
from tests.support.router_harness import ADMIN, running_router
from tests.support.serve import free_port

pytestmark = pytest.mark.integration
TYPES = ["contact.queued", "offer.issued", "contact.assigned", "contact.completed"]


@dataclass
class Receiver:
    secret: str = ""
    delay_s: float = 0.0
    got: list[dict] = field(default_factory=list)  # verified bodies, in arrival order
    bad: list[str] = field(default_factory=list)

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        await asyncio.sleep(self.delay_s)
        try:
            self.got.append(Webhook(self.secret).verify(body, dict(request.headers)))
        except Exception as exc:  # a bad signature is the test's failure, not the server's
            self.bad.append(repr(exc))
            return Response(status_code=400)
        return Response(status_code=204)


def mine(receiver: Receiver, contacts: set[str]) -> list[dict]:
    return [e for e in receiver.got if e["data"].get("contact_id") in contacts]


async def serve_on(app, port: int) -> tuple[uvicorn.Server, asyncio.Task]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    await until(lambda: server.started, 30, what="webhook receiver up")
    return server, task


ROUTED_MS: dict[str, float] = {}  # contact -> from its contact.created sent to its offer seen


async def contacts_through(harness, auth: dict, n: int) -> list[str]:
    """n chats queued, offered, accepted and completed, and their events on Kafka (the
    relay publishes beside the API)."""
    ids = []
    for _ in range(n):
        sent = time.perf_counter()
        cid = await harness.contact(channel="chat")
        offer = await harness.routing.wait("offer.issued", contact_id=cid)
        ROUTED_MS[cid] = (time.perf_counter() - sent) * 1000
        assert (await harness.http.post(f"/v1/offers/{offer.data.offer_id}/accept", headers=auth)).status_code == 200
        assert (await harness.http.post(f"/v1/contacts/{cid}/complete", headers=auth)).status_code == 200
        await harness.routing.wait("contact.completed", contact_id=cid)
        ids.append(cid)
    return ids


async def test_a_receiver_down_then_slow_gets_every_event_once_in_order_signed(infra, redis):
    port, receiver = free_port(), Receiver()
    async with running_router(infra, webhook_sync_ms=200, webhook_backoff_s=0.1, webhook_backoff_max_s=0.5,
                              webhook_max_attempts=1000) as harness:
        auth = await harness.agent("ann", {"support": 1}, channels=["chat"])
        baseline = await contacts_through(harness, auth, 5)  # before any subscription
        r = await harness.http.post("/v1/webhooks", headers=ADMIN, json={
            "url": f"http://127.0.0.1:{port}/hook", "types": TYPES, "description": "CRM timeline"})
        assert r.status_code == 201, r.text
        hook = r.json()
        receiver.secret = hook["secret"]
        assert hook["secret"].startswith("whsec_")
        listed = (await harness.http.get("/v1/webhooks", headers=ADMIN)).json()
        assert [w["id"] for w in listed] == [hook["id"]] and "secret" not in listed[0]

        down = await contacts_through(harness, auth, 5)  # nobody listens on the port yet
        app = Starlette(routes=[Route("/hook", receiver.hook, methods=["POST"])])
        server, task = await serve_on(app, port)
        try:
            receiver.delay_s = 0.2  # then slow
            slow = await contacts_through(harness, auth, 5)
            ours = set(down + slow)
            expected = [e for e in harness.routing.events if e.type in {f"omniroute.{t}.v1" for t in TYPES}
                        and e.data.contact_id in ours]
            wanted = {e.id for e in expected}
            await until(lambda: wanted <= {e["id"] for e in mine(receiver, ours)}, 60, what="every event delivered")
        finally:
            server.should_exit = True
            await task
    assert receiver.bad == []
    # The subscription is the domain's: what other tests' routers left on the topic may
    # come too. Ours are judged.
    got = mine(receiver, ours)
    assert not mine(receiver, set(baseline))  # from the subscription on, not before
    ids = [e["id"] for e in got]
    assert sorted(ids) == sorted(e.id for e in expected) and len(set(ids)) == len(ids)  # each once
    per_contact = defaultdict(list)
    for e in got:
        per_contact[e["data"]["contact_id"]].append(e["id"])
    for cid in down + slow:
        assert per_contact[cid] == [e.id for e in expected if e.data.contact_id == cid]  # in order
    assert all(e["specversion"] == "1.0" and e["type"].startswith("omniroute.") for e in got)
    for phase, cids in (("no subscriber", baseline), ("subscriber down", down), ("subscriber slow", slow)):
        ms = [ROUTED_MS[c] for c in cids]  # published to Kafka .. the offer seen on Kafka
        print(f"time to route with {phase}: median {statistics.median(ms):.1f} ms, max {max(ms):.1f} ms")


async def test_a_subscriber_that_keeps_failing_is_given_up_after_the_last_attempt(infra, redis):
    async with running_router(infra, webhook_sync_ms=200, webhook_backoff_s=0.05, webhook_backoff_max_s=0.1,
                              webhook_max_attempts=3) as harness:
        r = await harness.http.post("/v1/webhooks", headers=ADMIN, json={
            "url": f"http://127.0.0.1:{free_port()}/nobody", "types": ["contact.queued"]})
        hook = r.json()
        cid = await harness.contact(channel="chat")
        await harness.routing.wait("contact.queued", contact_id=cid)

        async def logged():
            r = await harness.http.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=ADMIN)
            return [d for d in r.json() if d["contact_id"] == cid]  # other tests' leftovers aside
        log = await until(logged, 30, what="the dead delivery logged")
        assert log[0]["status"] == "dead" and log[0]["attempts"] == 3
        assert "ConnectError" in log[0]["error"]
        assert (await harness.http.delete(f"/v1/webhooks/{hook['id']}", headers=ADMIN)).json() == {"result": "deleted"}
        assert (await harness.http.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=ADMIN)).status_code == 404
        bad = await harness.http.post("/v1/webhooks", headers=ADMIN, json={"url": "ftp://x", "types": ["*"]})
        assert bad.status_code == 422
        bad = await harness.http.post("/v1/webhooks", headers=ADMIN, json={"url": "http://x", "types": ["nope"]})
        assert bad.status_code == 422
