"""A real router (real Kafka, real Redis) driven through its HTTP API and Kafka."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
from aiokafka import AIOKafkaProducer

from services.router.bootstrap import Router
from shared.cloudevents import new_event
from shared.events import ContactCreated, Customer, event_type
from shared.kafka import publish

from .kafka_watch import Watch

ADMIN = {"Authorization": "Bearer test-admin-token"}


@dataclass
class Harness:
    http: httpx.AsyncClient
    router: Router
    producer: AIOKafkaProducer
    routing: Watch
    deadletter: Watch

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
