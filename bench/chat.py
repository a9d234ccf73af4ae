"""Chat message latency through the real stack: customer socket -> Kafka -> agent
desktop stream, and agent API -> Kafka -> customer socket. Prints percentiles.

    OMNIROUTE_KAFKA_BOOTSTRAP=... OMNIROUTE_REDIS_URL=... python bench/chat.py [rounds]

Starts its own router and chat gateway (uvicorn, free ports) on that Kafka and Redis;
use a dedicated infra (`make infra-up`), since it adds an agent and contacts there.
"""

from __future__ import annotations

import asyncio
import json
import socket
import statistics
import sys
import time
import uuid

import httpx
import uvicorn
import websockets

from services.chat_gateway.app import create_app as chat_app
from services.chat_gateway.settings import ChatSettings
from services.router.app import create_app as router_app
from services.router.settings import RouterSettings

ADMIN = "bench-admin-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def serve(app) -> tuple[uvicorn.Server, asyncio.Task, str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    return server, task, f"127.0.0.1:{port}"


async def until_frame(ws, kind: str, text: str | None = None) -> dict:
    while True:
        f = json.loads(await ws.recv())
        if f["type"] == kind and (text is None or f.get("text") == text):
            return f


def pct(xs: list[float], p: float) -> float:
    return statistics.quantiles(xs, n=100, method="inclusive")[int(p) - 1] if len(xs) > 1 else xs[0]


async def main(rounds: int) -> None:
    rs = RouterSettings(admin_token=ADMIN, router_group=f"bench-{uuid.uuid4().hex[:6]}", offset_reset="latest",
                        log_level="WARNING")
    r_app, c_app = router_app(rs), chat_app(ChatSettings(log_level="WARNING", chat_message_rate_per_min=10**6))
    (rsrv, rtask, raddr), (csrv, ctask, caddr) = await serve(r_app), await serve(c_app)
    router_consumers = r_app.state.service.consumers
    for consumer in (router_consumers["router"].consumer, router_consumers["desktop"].consumer,
                     c_app.state.service.gateway.consumer):
        while not consumer.assignment():
            await asyncio.sleep(0.05)
        for tp in consumer.assignment():
            await consumer.position(tp)
    agent = f"bench-{uuid.uuid4().hex[:6]}"
    async with httpx.AsyncClient(base_url=f"http://{raddr}", trust_env=False, timeout=10) as http:
        r = await http.post("/v1/agents", headers={"Authorization": f"Bearer {ADMIN}"}, json={
            "id": agent, "name": "Bench", "skills": {"support": 5}, "channels": ["chat"]})
        token = r.json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        await http.post(f"/v1/agents/{agent}/login", headers=auth)
        async with websockets.connect(f"ws://{raddr}/v1/agents/{agent}/stream") as desk, \
                websockets.connect(f"ws://{caddr}/ws") as customer:
            await desk.send(json.dumps({"type": "auth", "token": token}))
            await until_frame(desk, "hello")
            t0 = time.perf_counter()
            await customer.send(json.dumps({"type": "start", "name": "Bench", "customer_id": "bench", "topic": "general"}))
            offer = await until_frame(desk, "offer")
            offered_ms = (time.perf_counter() - t0) * 1000
            cid = offer["contact_id"]
            await http.post(f"/v1/offers/{offer['offer_id']}/accept", headers=auth)
            await until_frame(customer, "assigned")
            to_agent, to_customer = [], []
            for i in range(rounds):
                text = f"c{i}"
                t = time.perf_counter()
                await customer.send(json.dumps({"type": "message", "text": text}))
                await until_frame(desk, "message", text)
                to_agent.append((time.perf_counter() - t) * 1000)
                text = f"a{i}"
                t = time.perf_counter()
                await http.post(f"/v1/contacts/{cid}/messages", headers=auth, json={"text": text})
                await until_frame(customer, "message", text)
                to_customer.append((time.perf_counter() - t) * 1000)
            await http.post(f"/v1/contacts/{cid}/complete", headers=auth, json={"disposition": "bench"})
    for srv in (csrv, rsrv):
        srv.should_exit = True
    await asyncio.gather(ctask, rtask)
    print(f"start -> offer on the desktop: {offered_ms:.1f} ms")
    for name, xs in (("customer -> agent desktop", to_agent), ("agent API -> customer widget", to_customer)):
        print(f"{name}: n={len(xs)} p50={pct(xs, 50):.1f} ms p95={pct(xs, 95):.1f} ms p99={pct(xs, 99):.1f} ms "
              f"max={max(xs):.1f} ms")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
