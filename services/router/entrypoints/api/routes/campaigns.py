"""Outbound campaigns (admin creates and steers; supervisors and ops read) and the
do-not-contact list they honour (docs/campaigns.md)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from services.router.domain import commands as c
from services.router.domain.campaigns import Campaign

from ..deps import AdminDep, BusDep, SupervisorDep

api = APIRouter(tags=["campaigns"])
OUTCOMES = ("completed", "busy", "no_answer", "failed", "abandoned", "sent", "do_not_contact")


class CampaignProgress(BaseModel):
    id: str
    name: str
    channel: str
    queue: str
    state: str = Field(description="running | paused | cancelled | finished")
    targets: int
    done: int = Field(description="targets with nothing more to try")
    waiting: int = Field(description="targets waiting for their first or next attempt")
    in_flight: int = Field(description="attempts under way (voice: offered to, or with, an agent)")
    attempts: int = Field(description="calls started or messages sent")
    exhausted: int = Field(description="targets that ran out of attempts")
    outcomes: dict[str, int] = Field(description="attempts ended per outcome")


class StateChange(BaseModel):
    state: Literal["running", "paused", "cancelled"]


class Listed(BaseModel):
    listed: bool


class DoNotContact(BaseModel):
    addresses: list[str] = Field(min_length=1, max_length=10_000, description="numbers or email addresses")


def _progress(raw: dict) -> CampaignProgress:
    spec = raw["spec"]
    return CampaignProgress(
        id=spec["id"], name=spec.get("name", ""), channel=spec["channel"], queue=spec["queue"], state=raw["state"],
        targets=int(raw["total"]), done=int(raw["done"]), waiting=int(raw["waiting"]),
        in_flight=int(raw["inflight"]), attempts=int(raw["attempts"]), exhausted=int(raw.get("exhausted", 0)),
        outcomes={o: int(raw[f"n_{o}"]) for o in OUTCOMES if raw.get(f"n_{o}")})


@api.post("/campaigns", status_code=status.HTTP_201_CREATED)
async def create_campaign(body: Campaign, bus: BusDep, _: AdminDep) -> CampaignProgress:
    return _progress(await bus.handle(c.CreateCampaign(body)))


@api.get("/campaigns")
async def list_campaigns(bus: SupervisorDep) -> list[CampaignProgress]:
    return [_progress(r) for r in await bus.handle(c.ListCampaigns())]


@api.get("/campaigns/{campaign_id}")
async def get_campaign(campaign_id: str, bus: SupervisorDep) -> CampaignProgress:
    return _progress(await bus.handle(c.GetCampaign(campaign_id)))


@api.put("/campaigns/{campaign_id}/state")
async def set_campaign_state(campaign_id: str, body: StateChange, bus: BusDep, _: AdminDep) -> CampaignProgress:
    return _progress(await bus.handle(c.SetCampaignState(campaign_id, body.state)))


@api.post("/do-not-contact", status_code=status.HTTP_204_NO_CONTENT)
async def add_do_not_contact(body: DoNotContact, bus: BusDep, _: AdminDep) -> None:
    await bus.handle(c.SetDoNotContact(body.addresses, listed=True))


@api.post("/do-not-contact/remove", status_code=status.HTTP_204_NO_CONTENT)
async def remove_do_not_contact(body: DoNotContact, bus: BusDep, _: AdminDep) -> None:
    await bus.handle(c.SetDoNotContact(body.addresses, listed=False))


@api.get("/do-not-contact/{address}")
async def on_do_not_contact(address: str, bus: BusDep, _: AdminDep) -> Listed:
    return Listed(listed=await bus.handle(c.CheckDoNotContact(address)))
