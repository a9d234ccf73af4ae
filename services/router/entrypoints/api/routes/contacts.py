"""Contacts: read one, complete it, write to the customer; its transcript and customer
context (the assigned agent or an admin)."""

from fastapi import APIRouter, status

from services.router.domain import commands as c
from shared.events import MessagePosted
from shared.transcripts import TranscriptEntry

from ..deps import BusDep, CallerDep
from ..schemas import Completion, ContactView, CustomerContext, MessageIn, Outcome, TransferIn

api = APIRouter(prefix="/contacts", tags=["contacts"])


@api.get("/{contact_id}")
async def get_contact(contact_id: str, bus: BusDep, who: CallerDep) -> ContactView:
    return ContactView.model_validate((await bus.handle(c.GetContact(contact_id, who))).view())


@api.post("/{contact_id}/complete", response_model=Outcome)
async def complete(contact_id: str, bus: BusDep, who: CallerDep, body: Completion | None = None) -> Outcome:
    disposition = body.disposition if body else ""
    return Outcome(result=await bus.handle(c.CompleteContact(contact_id, who, disposition)))


@api.post("/{contact_id}/transfer", response_model=Outcome)
async def transfer(contact_id: str, body: TransferIn, bus: BusDep, who: CallerDep) -> Outcome:
    """Hand the contact on, keeping its place: to a queue, a named agent, or a supervisor."""
    return Outcome(result=await bus.handle(c.TransferContact(
        contact_id, who, queue=body.queue or "", agent=body.agent or "", supervisor=body.supervisor,
        warm=body.warm, note=body.note, reason=body.reason)))


@api.post("/{contact_id}/messages", status_code=status.HTTP_202_ACCEPTED, response_model=MessagePosted)
async def post_message(contact_id: str, body: MessageIn, bus: BusDep, who: CallerDep) -> MessagePosted:
    """The assigned agent writes to the customer; the channel's gateway delivers it."""
    return await bus.handle(c.PostAgentMessage(contact_id, who, body.text))


@api.get("/{contact_id}/transcript")
async def transcript(contact_id: str, bus: BusDep, who: CallerDep) -> list[TranscriptEntry]:
    """The conversation so far, including what the customer wrote while waiting."""
    return [TranscriptEntry.model_validate(m) for m in await bus.handle(c.GetTranscript(contact_id, who))]


@api.get("/{contact_id}/context")
async def context(contact_id: str, bus: BusDep, who: CallerDep) -> CustomerContext:
    """Who the customer is: tier, identity and their previous contacts."""
    return CustomerContext.model_validate(await bus.handle(c.GetCustomerContext(contact_id, who)))
