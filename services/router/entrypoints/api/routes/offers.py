"""Offers: an agent accepts or declines their own offer."""

from fastapi import APIRouter

from services.router.domain import commands as c

from ..deps import BusDep, CallerDep
from ..schemas import Decline, Outcome

api = APIRouter(prefix="/offers", tags=["offers"])


@api.post("/{offer_id}/accept", response_model=Outcome)
async def accept(offer_id: str, bus: BusDep, who: CallerDep) -> Outcome:
    return Outcome(result=await bus.handle(c.AcceptOffer(offer_id, who)))


@api.post("/{offer_id}/decline", response_model=Outcome)
async def decline(offer_id: str, bus: BusDep, who: CallerDep, body: Decline | None = None) -> Outcome:
    return Outcome(result=await bus.handle(c.DeclineOffer(offer_id, who, body.reason if body else "")))
