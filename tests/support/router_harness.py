"""A real router (real Kafka, real Redis) driven through its HTTP API and Kafka."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from services.router.adapters.store import RoutingStore
from services.router.app import create_app
from services.router.bootstrap import RoutingService, bootstrap
from services.router.settings import RouterSettings
from shared import topics
from shared.cloudevents import new_event
from shared.events import ContactCreated, Customer, event_type
from shared.kafka import joined, make_producer, publish
from shared.redis_client import from_url

from .kafka_watch import Watch
from .poll import until

ADMIN_TOKEN = "test-admin-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def infra_address(infra, name: str) -> str:
    return infra[name] if isinstance(infra, dict) else getattr(infra, name)


async def positioned(consumer, what: str) -> None:
    """Wait until the consumer has joined with partitions and resolve 'latest' now, so
    nothing produced later is missed."""
    await until(lambda: consumer.assignment() and joined(consumer), 30, what=what)
    for tp in consumer.assignment():
        await consumer.position(tp)


@dataclass
class Harness:
    http: httpx.AsyncClient
    service: RoutingService
    producer: AIOKafkaProducer
    routing: Watch
    deadletter: Watch
    app: FastAPI | None = field(default=None, repr=False)

    @property
    def redis(self):
        """The Redis the router uses (tests peek at gateways' keys there)."""
        return self.service.deps.store.redis

    async def agent(self, agent_id: str, skills: dict, channels=("chat", "email", "voice"),
                    capacity: int = 100, login: bool = True) -> dict:
        r = await self.http.post("/v1/agents", headers=ADMIN, json={
            "id": agent_id, "name": agent_id.title(), "skills": skills,
            "channels": list(channels), "capacity": capacity})
        assert r.status_code == 201, r.text
        auth = {"Authorization": f"Bearer {r.json()['token']}"}
        if login:
            r = await self.http.post(f"/v1/agents/{agent_id}/login", headers=auth)
            assert r.status_code == 200, r.text
        return auth

    async def contact(self, channel: str = "chat", intent: str = "general", customer: str | None = None,
                      contact_id: str | None = None, event_id: str | None = None, **kw) -> str:
        cid = contact_id or f"c-{uuid.uuid4().hex[:10]}"
        data = ContactCreated(id=cid, channel=channel, intent=intent,
                              customer=Customer(id=customer or f"cust-{cid}", address="x"), **kw)
        await publish(self.producer, new_event(event_type("contact.created"), data,
                                               source="tests", key=cid, id=event_id))
        return cid


async def positioned_all(service: RoutingService) -> None:
    """Every consumer of the router has its partitions and a position."""
    for name, consumer in service.consumers.items():
        await positioned(consumer.consumer, f"{name} partition assignment")


@contextlib.asynccontextmanager
async def running_router(infra, clock: Callable[[], int] | None = None, **overrides) -> AsyncIterator[Harness]:
    """A real router app with its lifespan running on the `infra` Kafka and Redis.

    A fresh consumer group that starts at the end keeps earlier tests' contacts out;
    `clock` injects the routing clock so time-based rules are exact without sleeping."""
    kafka = infra_address(infra, "kafka_bootstrap")
    settings = RouterSettings(**{
        "kafka_bootstrap": kafka, "redis_url": infra_address(infra, "redis_url"), "admin_token": ADMIN_TOKEN,
        "router_group": f"test-router-{uuid.uuid4().hex[:8]}", "offset_reset": "latest", "timer_interval_ms": 50,
        **overrides})
    store = None
    if clock is not None:
        store = RoutingStore(from_url(settings.redis_url), now_ms=clock,
                             presence_timeout_ms=settings.presence_timeout_ms)
    service = bootstrap(settings, store=store)
    app = create_app(settings, service=service)
    async with app.router.lifespan_context(app):
        await positioned_all(service)
        producer = make_producer(kafka)
        await producer.start()
        try:
            async with (
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://router") as http,
                Watch(kafka, topics.ROUTING, topics.AGENTS) as routing,
                Watch(kafka, topics.DEADLETTER) as deadletter,
            ):
                yield Harness(http=http, service=service, producer=producer, routing=routing,
                              deadletter=deadletter, app=app)
        finally:
            await producer.stop()
