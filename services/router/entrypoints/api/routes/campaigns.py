"""Outbound campaigns (admin creates and steers; supervisors and ops read) and the
do-not-contact list they honour (docs/campaigns.md)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from services.router.domain import commands as c
from services.router.domain.campaigns import Campaign

from ..deps import AdminDep, BusDep, SupervisorDep
from ..schemas import CampaignProgress

api = APIRouter(tags=["campaigns"])


class StateChange(BaseModel):
    state: Literal["running", "paused", "cancelled"]


class Listed(BaseModel):
    listed: bool


class DoNotContact(BaseModel):
    addresses: list[str] = Field(min_length=1, max_length=10_000, description="numbers or email addresses")


@api.post("/campaigns", status_code=status.HTTP_201_CREATED)
async def create_campaign(body: Campaign, bus: BusDep, _: AdminDep) -> CampaignProgress:
    return CampaignProgress(**await bus.handle(c.CreateCampaign(body)))


@api.get("/campaigns")
async def list_campaigns(bus: SupervisorDep) -> list[CampaignProgress]:
    return [CampaignProgress(**r) for r in await bus.handle(c.ListCampaigns())]


@api.get("/campaigns/{campaign_id}")
async def get_campaign(campaign_id: str, bus: SupervisorDep) -> CampaignProgress:
    return CampaignProgress(**await bus.handle(c.GetCampaign(campaign_id)))


@api.put("/campaigns/{campaign_id}/state")
async def set_campaign_state(campaign_id: str, body: StateChange, bus: BusDep, _: AdminDep) -> CampaignProgress:
    return CampaignProgress(**await bus.handle(c.SetCampaignState(campaign_id, body.state)))


@api.post("/do-not-contact", status_code=status.HTTP_204_NO_CONTENT)
async def add_do_not_contact(body: DoNotContact, bus: BusDep, _: AdminDep) -> None:
    await bus.handle(c.SetDoNotContact(body.addresses, listed=True))


@api.post("/do-not-contact/remove", status_code=status.HTTP_204_NO_CONTENT)
async def remove_do_not_contact(body: DoNotContact, bus: BusDep, _: AdminDep) -> None:
    await bus.handle(c.SetDoNotContact(body.addresses, listed=False))


@api.get("/do-not-contact/{address}")
async def on_do_not_contact(address: str, bus: BusDep, _: AdminDep) -> Listed:
    return Listed(listed=await bus.handle(c.CheckDoNotContact(address)))
