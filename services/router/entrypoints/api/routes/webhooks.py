"""Webhook subscriptions (admin): routing events pushed to your systems as signed
CloudEvents over HTTP, without running a Kafka consumer."""

from typing import Annotated

from fastapi import APIRouter, status
from pydantic import BaseModel, Field, StringConstraints

from services.router.domain import commands as c

from ..deps import AdminDep, BusDep
from ..schemas import Outcome

api = APIRouter(prefix="/webhooks", tags=["webhooks"])
TYPE = r"^(\*|[a-z_]+\.[a-z_]+)$"


class WebhookIn(BaseModel):
    url: str = Field(max_length=2000, description="Where the events are POSTed")
    types: list[Annotated[str, StringConstraints(pattern=TYPE)]] = Field(
        default_factory=lambda: ["*"], min_length=1, max_length=50,
        description='Routing event names ("contact.assigned", ...), or "*" for all')
    secret: str = Field(default="", max_length=200, description="whsec_<base64>; empty: one is made")
    description: str = Field(default="", max_length=200)


class Webhook(BaseModel):
    id: str
    url: str
    types: list[str]
    description: str
    created_ms: int


class CreatedWebhook(Webhook):
    secret: str = Field(description="Verifies the webhook-signature header (Standard Webhooks); shown once")


class Delivery(BaseModel):
    event_id: str
    type: str
    status: str = Field(description="delivered, or dead (given up after the last attempt)")
    attempts: int
    contact_id: str | None
    error: str
    at_ms: int


@api.post("", status_code=status.HTTP_201_CREATED, response_model=CreatedWebhook)
async def create(body: WebhookIn, bus: BusDep, _: AdminDep) -> CreatedWebhook:
    return CreatedWebhook.model_validate(await bus.handle(c.CreateWebhook(body.url, body.types, body.secret,
                                                                          body.description)))


@api.get("")
async def list_all(bus: BusDep, _: AdminDep) -> list[Webhook]:
    return [Webhook.model_validate(s.view()) for s in await bus.handle(c.ListWebhooks())]


@api.delete("/{webhook_id}", response_model=Outcome)
async def delete(webhook_id: str, bus: BusDep, _: AdminDep) -> Outcome:
    return Outcome(result=await bus.handle(c.DeleteWebhook(webhook_id)))


@api.get("/{webhook_id}/deliveries")
async def deliveries(webhook_id: str, bus: BusDep, _: AdminDep) -> list[Delivery]:
    """The latest deliveries, newest first."""
    return [Delivery.model_validate(d) for d in await bus.handle(c.GetWebhookDeliveries(webhook_id))]
