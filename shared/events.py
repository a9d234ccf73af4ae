"""Event contracts (docs/architecture.md: contracts): the pydantic v2 models carried in CloudEvents `data`.

Type names are `omniroute.<noun>.<verb>.v1`. JSON Schemas and docs/asyncapi.yaml are
generated from `EVENT_MODELS` (see shared/schemas.py) and a test fails when they drift.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared import topics

Id = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@+\-]+$")]
# The id of something that owns Redis keys of its own (a contact, an agent): no ":", the
# key separator, so no id can name another's key (an agent "bob:offers" and Bob's offers).
KeyId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._@+\-]+$")]
# A channel is any slug so developers can add channels through the gateway SDK.
ChannelName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.\-]{0,63}$")]
Level = Annotated[int, Field(ge=1, le=5)]
# A routing domain (a center, a site, a tenant): one Redis hash tag, so no braces or dots.
DOMAIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9\-]{0,31}$")
DomainName = Annotated[str, StringConstraints(pattern=DOMAIN_PATTERN.pattern)]
DEFAULT_DOMAIN = "default"

VOICE, EMAIL, CHAT = "voice", "email", "chat"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Model(BaseModel):
    """An event payload. Tolerant reader (docs/architecture.md: event evolution): a field
    this version does not know is accepted and kept (it is written out again as it came),
    so a producer may add optional fields without breaking older consumers."""

    model_config = ConfigDict(extra="allow", frozen=True)


class Customer(Model):
    id: Id
    address: str = Field(default="", max_length=320, description="Channel address: phone, email or chat handle")
    name: str | None = Field(default=None, max_length=200)


class SkillRequirement(Model):
    skill: Slug
    min_level: Level = 1


class ContactCreated(Model):
    """A new contact from a gateway (omniroute.contacts)."""

    id: KeyId
    channel: ChannelName
    customer: Customer
    tier: Slug | None = Field(default=None, description="Overrides nothing: the CRM profile wins when it exists")
    intent: Slug = "general"
    queue: Slug | None = Field(default=None, description="Explicit queue; otherwise chosen from intent and channel")
    language: str = Field(default="en", max_length=16)
    priority: int = Field(default=0, ge=-100, le=100, description="Extra priority in aging seconds / 10")
    conversation_id: Id | None = Field(default=None, description="Thread, chat or caller key for returning customers")
    created_at: datetime = Field(default_factory=utcnow)
    metadata: dict[str, Any] = Field(default_factory=dict)


class ContactUpdated(Model):
    """A gateway's news about a live contact: merged metadata, new priority, escalation
    (e.g. email first-response SLA passed), or a re-queue after a failed hand-off."""

    contact_id: Id
    tier: Slug | None = None
    priority: int | None = Field(default=None, ge=-100, le=100)
    escalate: bool = Field(default=False, description="Raise to the queue's escalation priority now")
    requeue_reason: str | None = Field(default=None, max_length=200, description="Put an assigned contact back at its original place")
    retry_in_s: float | None = Field(default=None, gt=0, le=7 * 86400, description="With requeue_reason: back in the queue only after this long (a callback nobody answered)")
    close_reason: str | None = Field(default=None, max_length=200, description="The gateway gives up on an assigned contact: it is completed with this disposition")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Merged into the contact's channel metadata")


class ContactEnded(Model):
    """The customer left (hung up, closed the chat) before or during handling."""

    contact_id: Id
    reason: str = Field(default="customer_left", max_length=200)


class ContactQueued(Model):
    contact_id: Id
    queue: Slug
    channel: ChannelName
    tier: Slug
    customer_id: Id
    required_skills: list[SkillRequirement] = Field(description="Skills of the queue's first step")
    order_ms: int | None = Field(default=None, description=(
        "Its place in the queue's order as a time: arrival less its tier's lead (lower goes first)"))
    position: int | None = Field(default=None, ge=1, description=(
        "Its place in the queue's real priority order (tier, aging) when it entered: 1 is next"))
    estimated_wait_s: float | None = Field(default=None, ge=0, description=(
        "The wait the router expects from its place, the agents staffed for it and the queue's "
        "recent handle time; none when nobody is staffed"))


class OfferIssued(Model):
    offer_id: Id
    contact_id: Id
    agent_id: Id
    queue: Slug
    channel: ChannelName
    expires_at_ms: int


class OfferOutcome(Model):
    offer_id: Id
    contact_id: Id
    agent_id: Id
    consult_for: Id | None = Field(default=None, description="A warm transfer's offer: the agent who asked, "
                                   "who keeps the contact unless it is accepted")


class OfferAccepted(OfferOutcome):
    pass


class OfferDeclined(OfferOutcome):
    reason: str = ""


class OfferExpired(OfferOutcome):
    pass


class Callback(Model):
    """A callback request, as the voice gateway recorded it on the contact."""

    number: str = Field(max_length=320, description="The number to dial")
    gateway: str | None = Field(default=None, max_length=200, description="The voice gateway replica that dials it")
    attempts: int = Field(default=0, ge=0, description="Calls placed before this one")
    campaign: Slug | None = Field(default=None, description=(
        "An outbound campaign's call: the campaign dialler dials it and the router decides any retry"))


class ContactAssigned(Model):
    contact_id: Id
    agent_id: Id
    queue: Slug
    channel: ChannelName
    wait_ms: int
    agent_sip_uri: str | None = Field(default=None, description="Where the voice gateway transfers the call")
    callback: Callback | None = Field(default=None, description="A callback contact: the voice gateway calls the customer first")


class ContactRequeued(Model):
    contact_id: Id
    queue: Slug
    reason: str


class ContactEscalated(Model):
    contact_id: Id
    queue: Slug
    step: int


class ContactOverflowed(Model):
    """A contact left a full queue (or one it waited too long in) as a callback request.

    The gateway takes the customer's details. On a channel that calls back (voice) the
    contact stays in its queue as a callback contact (`keeps_place`); otherwise the router
    no longer routes it."""

    contact_id: Id
    queue: Slug
    channel: ChannelName
    reason: Literal["queue_full", "max_wait", "queue_removed"]
    action: Literal["callback"]
    wait_ms: int
    keeps_place: bool = Field(default=False, description="Its channel calls back (voice): it stays in its queue, "
                              "at its place, as a callback contact, and is routed on")


class ContactTransferred(Model):
    """The agent who held a contact handed it on (desktop or API). It keeps its arrival
    time and tier; a named agent or a supervisor is offered it first, for a while."""

    contact_id: Id
    channel: ChannelName
    from_agent: Id
    from_queue: Slug
    queue: Slug = Field(description="The queue it waits in now")
    to_agent: Id | None = Field(default=None, description="Offered to this agent first (named, or the supervisor chosen)")
    kind: Literal["queue", "agent", "supervisor"]
    reason: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=2000, description="For the next agent, never shown to the customer")
    warm: bool = Field(default=False, description="The first agent stayed until the next one accepted")


class ContactDeferred(Model):
    """A contact arrived while its queue was closed (its hours of operation). `wait`: it
    is queued at the opening (email; its wait counts from then); `callback`: a callback
    at the opening (voice); `leave`: it is over, the customer is told the hours (chat)."""

    contact_id: Id
    queue: Slug
    channel: ChannelName
    reason: Literal["closed"] = "closed"
    action: Literal["wait", "callback", "leave"]
    opens_at_ms: int | None = Field(default=None, description="When the queue opens next (none within a year: null)")
    hours: str = Field(default="", max_length=500, description="The queue's weekly hours, for the customer")


class ContactAbandoned(Model):
    contact_id: Id
    queue: Slug
    channel: ChannelName
    wait_ms: int


class ContactCompleted(Model):
    contact_id: Id
    agent_id: Id
    queue: Slug
    channel: ChannelName
    handle_ms: int
    disposition: str = ""


class AgentStateChanged(Model):
    agent_id: Id
    state: Literal["offline", "available", "not_ready", "wrapup"]
    reason: str = ""


class MessagePosted(Model):
    message_id: Id
    conversation_id: Id
    contact_id: Id | None = None
    sender: Literal["customer", "agent", "system"]
    author: str = Field(default="", max_length=200)
    text: str = Field(max_length=20000)
    sent_at: datetime = Field(default_factory=utcnow)


class SurveySubmitted(Model):
    contact_id: Id
    score: Annotated[int, Field(ge=1, le=5)]
    comment: str = Field(default="", max_length=2000)
    complaint: bool = False


class DeflectionOffered(Model):
    """Self-service articles were shown to a customer before a contact (chat, email)."""
    id: Id  # of this offer; its acceptance names it
    queue: Slug
    channel: ChannelName
    intent: Slug = "general"
    articles: list[Slug] = Field(default_factory=list)


class DeflectionAccepted(Model):
    """The customer said an article solved it: the chat never reached the queue."""
    id: Id  # the offer's
    queue: Slug
    channel: ChannelName
    article_id: Slug


CampaignOutcome = Literal["completed", "busy", "no_answer", "failed", "abandoned", "sent", "do_not_contact"]


class CampaignAttemptEnded(Model):
    """One attempt at a campaign's target ended (the router decides what follows)."""
    campaign_id: Slug
    target_id: Slug
    contact_id: Id | None = Field(default=None, description="The attempt's contact (none when it never started)")
    channel: ChannelName
    attempt: int = Field(ge=0, description="Attempts at this target before this one")
    outcome: CampaignOutcome
    retry_at_ms: int | None = Field(default=None, description="When it is tried again; none: the target is done")


class CampaignMessageRequested(Model):
    """An email campaign's message to one target: the email gateway sends it; a reply
    comes back as inbound email."""
    campaign_id: Slug
    target_id: Slug
    to: str = Field(max_length=320)
    name: str = Field(default="", max_length=200)
    subject: str = Field(max_length=300)
    body: str = Field(max_length=20_000)
    intent: Slug = "general"


def event_type(noun_verb: str) -> str:
    return f"omniroute.{noun_verb}.v1"


# type -> (model, topic it travels on)
EVENT_MODELS: dict[str, tuple[type[Model], str]] = {
    event_type("contact.created"): (ContactCreated, topics.CONTACTS),
    event_type("contact.updated"): (ContactUpdated, topics.CONTACTS),
    event_type("contact.ended"): (ContactEnded, topics.CONTACTS),
    event_type("contact.queued"): (ContactQueued, topics.ROUTING),
    event_type("offer.issued"): (OfferIssued, topics.ROUTING),
    event_type("offer.accepted"): (OfferAccepted, topics.ROUTING),
    event_type("offer.declined"): (OfferDeclined, topics.ROUTING),
    event_type("offer.expired"): (OfferExpired, topics.ROUTING),
    event_type("contact.assigned"): (ContactAssigned, topics.ROUTING),
    event_type("contact.requeued"): (ContactRequeued, topics.ROUTING),
    event_type("contact.escalated"): (ContactEscalated, topics.ROUTING),
    event_type("contact.transferred"): (ContactTransferred, topics.ROUTING),
    event_type("contact.deferred"): (ContactDeferred, topics.ROUTING),
    event_type("contact.abandoned"): (ContactAbandoned, topics.ROUTING),
    event_type("contact.overflowed"): (ContactOverflowed, topics.ROUTING),
    event_type("contact.completed"): (ContactCompleted, topics.ROUTING),
    event_type("agent.state_changed"): (AgentStateChanged, topics.AGENTS),
    event_type("message.posted"): (MessagePosted, topics.MESSAGES),
    event_type("survey.submitted"): (SurveySubmitted, topics.CONTACTS),
    event_type("deflection.offered"): (DeflectionOffered, topics.CONTACTS),
    event_type("deflection.accepted"): (DeflectionAccepted, topics.CONTACTS),
    event_type("campaign.attempt_ended"): (CampaignAttemptEnded, topics.ROUTING),
    event_type("campaign.message_requested"): (CampaignMessageRequested, topics.ROUTING),
}
