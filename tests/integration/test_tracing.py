"""One chat contact's trace, from the widget's socket to the agent's accept, across the
router and the chat gateway run as real processes, collected by an OTLP/HTTP receiver
the test runs: the spans, their services and their order."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import httpx
import pytest
import websockets
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fuzz.conftest import ADMIN_TOKEN, start
from tests.routing.world import db_url
from tests.support.poll import until
from tests.support.serve import serve

pytestmark = pytest.mark.integration
TRACE_DB = 9
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@dataclass
class Span:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    start_ns: int
    attributes: dict


@dataclass
class Collector:
    """An OTLP/HTTP trace receiver (protobuf), in process."""

    spans: list[Span] = field(default_factory=list)

    async def traces(self, request: Request) -> Response:
        req = ExportTraceServiceRequest()
        req.ParseFromString(await request.body())
        for rs in req.resource_spans:
            service = next(a.value.string_value for a in rs.resource.attributes if a.key == "service.name")
            for ss in rs.scope_spans:
                for s in ss.spans:
                    attrs = {a.key: a.value.string_value for a in s.attributes}
                    self.spans.append(Span(service, s.name, s.trace_id.hex(), s.span_id.hex(), s.parent_span_id.hex(),
                                           s.start_time_unix_nano, attrs))
        return Response(ExportTraceServiceRequest().SerializeToString(), media_type="application/x-protobuf")

    def trace_of(self, contact_id: str) -> list[Span]:
        ids = {s.trace_id for s in self.spans if s.attributes.get("omniroute.contact_id") == contact_id}
        return sorted((s for s in self.spans if s.trace_id in ids), key=lambda s: s.start_ns)


async def test_one_chat_contact_is_one_trace_from_the_widget_to_the_accept(infra):
    from shared.redis_client import from_url

    redis = from_url(db_url(infra.redis_url, TRACE_DB))
    await redis.flushdb()
    await redis.aclose()
    collector = Collector()
    async with serve(Starlette(routes=[Route("/v1/traces", collector.traces, methods=["POST"])])) as otlp:
        env = {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{otlp}/v1/traces", "OTEL_BSP_SCHEDULE_DELAY": "200",
               "OMNIROUTE_LOG_LEVEL": "INFO"}
        procs = [start("router", infra, db=TRACE_DB, **env), start("chat", infra, db=TRACE_DB, **env)]
        (router, router_url), (chat, chat_url) = procs
        try:
            async with httpx.AsyncClient(base_url=router_url, timeout=10) as http:
                r = await http.post("/v1/agents", headers=ADMIN, json={
                    "id": "tia", "name": "Tia", "skills": {"support": 3}, "channels": ["chat"], "capacity": 100})
                token = {"Authorization": f"Bearer {r.json()['token']}"}
                assert (await http.post("/v1/agents/tia/login", headers=token)).status_code == 200
                async with websockets.connect(chat_url.replace("http://", "ws://") + "/ws") as ws:
                    await ws.send(json.dumps({"type": "start", "name": "Tom", "email": "tom@example.com",
                                              "topic": "general"}))
                    cid = json.loads(await ws.recv())["conversation_id"]

                    async def offered():
                        return (await http.get("/v1/agents/tia/offers", headers=token)).json()
                    offer = (await until(offered, 30, what="the offer to tia"))[0]
                    assert (await http.post(f"/v1/offers/{offer['id']}/accept", headers=token)).status_code == 200
                    while (frame := json.loads(await asyncio.wait_for(ws.recv(), 30)))["type"] != "assigned":
                        pass
                    await ws.send(json.dumps({"type": "end"}))
            await until(lambda: any(s.name.endswith("process omniroute.contact.assigned.v1")
                                    for s in collector.trace_of(cid)), 30, what="the trace exported")
        finally:
            for proc, _ in procs:
                proc.terminate()
                proc.wait(15)
    spans = collector.trace_of(cid)
    seen = [(s.service, s.name) for s in spans]
    print("\n".join(f"{s.service:28} {s.name}" for s in spans))
    def at(step: str) -> int:
        return next(i for i, (_, name) in enumerate(seen) if name.endswith(step))

    # Each chain in the order it happened (the chat gateway's view of the queue and the
    # agent's accept run side by side).
    chains = [["process omniroute.contact.created.v1", "publish omniroute.contact.queued.v1",
               "process omniroute.contact.queued.v1"],
              ["process omniroute.contact.created.v1", "publish omniroute.offer.issued.v1", "router accept offer",
               "publish omniroute.offer.accepted.v1", "publish omniroute.contact.assigned.v1",
               "process omniroute.contact.assigned.v1"]]
    for chain in chains:
        positions = [at(step) for step in chain]
        assert positions == sorted(positions), (chain, seen)
    services = {svc for svc, _ in seen}
    assert {"omniroute-router", "omniroute-chat-gateway"} <= services
    assert len({s.trace_id for s in spans}) == 1
    root = spans[0]
    assert root.service == "omniroute-chat-gateway"  # the widget's socket started it
