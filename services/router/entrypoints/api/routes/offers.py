"""Offers: an agent accepts or declines their own offer."""

from fastapi import APIRouter, HTTPException, status

from ..deps import PrincipalDep, StateDep
from ..schemas import Decline, Outcome

router = APIRouter(prefix="/offers", tags=["offers"])

ERRORS = {
    "not_found": (status.HTTP_404_NOT_FOUND, "offer not found"),
    "forbidden": (status.HTTP_403_FORBIDDEN, "this offer belongs to another agent"),
    "gone": (status.HTTP_409_CONFLICT, "offer is no longer pending (expired, declined or withdrawn)"),
}


def raise_for(result: str, errors=ERRORS) -> Outcome:
    if result in errors:
        code, msg = errors[result]
        raise HTTPException(code, msg)
    return Outcome(result=result)


async def _owner(state: StateDep, offer_id: str, who: PrincipalDep) -> str:
    offer = await state.get_offer(offer_id)
    if offer is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "offer not found")
    who.require_agent(offer["agent"])
    return offer["agent"]


@router.post("/{offer_id}/accept", response_model=Outcome)
async def accept(offer_id: str, state: StateDep, who: PrincipalDep) -> Outcome:
    agent_id = await _owner(state, offer_id, who)
    return raise_for(await state.accept_offer(offer_id, agent_id))


@router.post("/{offer_id}/decline", response_model=Outcome)
async def decline(offer_id: str, state: StateDep, who: PrincipalDep, body: Decline | None = None) -> Outcome:
    agent_id = await _owner(state, offer_id, who)
    return raise_for(await state.decline_offer(offer_id, agent_id, body.reason if body else ""))
