"""Contacts: read one, complete it (the assigned agent)."""

import json

from fastapi import APIRouter, HTTPException, status

from ..deps import PrincipalDep, StateDep
from ..schemas import Completion, Outcome
from .offers import raise_for

router = APIRouter(prefix="/contacts", tags=["contacts"])

ERRORS = {
    "not_found": (status.HTTP_404_NOT_FOUND, "contact not found"),
    "forbidden": (status.HTTP_403_FORBIDDEN, "this contact is assigned to another agent"),
    "gone": (status.HTTP_409_CONFLICT, "contact is not assigned"),
}


async def _contact(state: StateDep, contact_id: str) -> dict:
    c = await state.get_contact(contact_id)
    if c is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "contact not found")
    return c


@router.get("/{contact_id}")
async def get_contact(contact_id: str, state: StateDep, who: PrincipalDep) -> dict:
    c = await _contact(state, contact_id)
    who.require_agent(c.get("agent", ""))
    view = {k: v for k, v in c.items() if k != "data"}
    view["id"] = contact_id
    view["contact"] = json.loads(c["data"])
    return view


@router.post("/{contact_id}/complete", response_model=Outcome)
async def complete(contact_id: str, state: StateDep, who: PrincipalDep, body: Completion | None = None) -> Outcome:
    c = await _contact(state, contact_id)
    agent_id = c.get("agent", "")
    who.require_agent(agent_id)
    return raise_for(await state.complete_contact(contact_id, agent_id, body.disposition if body else ""), ERRORS)
