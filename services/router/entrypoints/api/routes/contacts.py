"""Contacts: read one, complete it (the assigned agent)."""

import json
import uuid

from fastapi import APIRouter, HTTPException, status

from services.router.adapters.state import RoutingState
from shared.cloudevents import new_event
from shared.events import MessagePosted, event_type
from shared.kafka import publish

from ..deps import Principal, PrincipalDep, RouterDep, StateDep
from ..schemas import Completion, MessageIn, Outcome
from .offers import raise_for

router = APIRouter(prefix="/contacts", tags=["contacts"])

ERRORS = {
    "not_found": (status.HTTP_404_NOT_FOUND, "contact not found"),
    "forbidden": (status.HTTP_403_FORBIDDEN, "this contact is assigned to another agent"),
    "gone": (status.HTTP_409_CONFLICT, "contact is not assigned"),
}


async def assigned_contact(state: RoutingState, contact_id: str, who: Principal) -> dict:
    """The contact, for its assigned agent (or an admin) only."""
    c = await state.get_contact(contact_id)
    if c is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "contact not found")
    who.require_agent(c.get("agent", ""))
    return c


@router.get("/{contact_id}")
async def get_contact(contact_id: str, state: StateDep, who: PrincipalDep) -> dict:
    c = await assigned_contact(state, contact_id, who)
    view = {k: v for k, v in c.items() if k not in ("data", "meta")}
    view["id"] = contact_id
    view["contact"] = json.loads(c["data"])
    # Gateways' later news (contact.updated metadata) overlays what they first said.
    view["contact"]["metadata"].update(json.loads(c.get("meta") or "{}"))
    return view


@router.post("/{contact_id}/complete", response_model=Outcome)
async def complete(contact_id: str, state: StateDep, who: PrincipalDep, body: Completion | None = None) -> Outcome:
    agent_id = (await assigned_contact(state, contact_id, who)).get("agent", "")
    return raise_for(await state.complete_contact(contact_id, agent_id, body.disposition if body else ""), ERRORS)


@router.post("/{contact_id}/messages", status_code=status.HTTP_202_ACCEPTED, response_model=MessagePosted)
async def post_message(contact_id: str, body: MessageIn, router_: RouterDep, who: PrincipalDep) -> MessagePosted:
    """The assigned agent writes to the customer; the channel's gateway delivers it."""
    c = await assigned_contact(router_.state, contact_id, who)
    if c["state"] != "assigned":
        raise HTTPException(status.HTTP_409_CONFLICT, "contact is not assigned")
    data = json.loads(c["data"])
    agent = await router_.state.get_agent(c["agent"]) or {}
    message = MessagePosted(
        message_id=f"m-{uuid.uuid4().hex}", conversation_id=data.get("conversation_id") or contact_id,
        contact_id=contact_id, sender="agent", author=agent.get("name", c["agent"]), text=body.text,
    )
    event = new_event(event_type("message.posted"), message, source="omniroute/router", key=message.conversation_id)
    await publish(router_.producer, event)
    return message
