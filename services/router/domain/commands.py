"""Messages the router handles, one class each: commands change routing state, queries
read it. Every entrance (HTTP routes, the Kafka consumers, the timer and policy loops,
the desktop sockets) builds one and hands it to `MessageBus.handle`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.cloudevents import Envelope
from shared.events import DEFAULT_DOMAIN
from shared.policy import Policy

from .campaigns import Campaign
from .sso import Session


@dataclass(frozen=True)
class Caller:
    """Who sends a message: an admin, or one agent (who acts only on their own work), of
    one routing domain."""

    admin: bool = False
    agent_id: str | None = None
    domain: str = DEFAULT_DOMAIN


ADMIN = Caller(admin=True)


class Message:
    """Base of every message the bus handles."""


# -- events from Kafka -------------------------------------------------------------------
@dataclass(frozen=True)
class RouteEvent(Message):
    """A gateway's contact.created / .updated / .ended: route it."""
    event: Envelope


@dataclass(frozen=True)
class FeedDesktop(Message):
    """A routing, agent or message event: push it to the desktops it concerns."""
    event: Envelope


@dataclass(frozen=True)
class ProjectStats(Message):
    """A fetched batch of events: fold them into the service-level aggregates."""
    events: list[tuple[str, int, Envelope]]  # (topic:partition, offset, event) in fetch order
    highwater: dict[str, int] = field(default_factory=dict)  # per topic:partition


# -- agents ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Authenticate(Message):
    token: str


# -- single sign-on ----------------------------------------------------------------------
@dataclass(frozen=True)
class BeginSignIn(Message):
    """Where to send the browser to sign in for a page (desktop, ops)."""
    page: str
    redirect_uri: str


@dataclass(frozen=True)
class FinishSignIn(Message):
    """The provider sent the browser back with a code: who is this? (page, Session)"""
    state: str
    code: str


@dataclass(frozen=True)
class OpenSession(Message):
    """A signed-in identity gets its session token, on its routing domain's bus."""
    session: Session
    page: str


@dataclass(frozen=True)
class EndSession(Message):
    token: str


@dataclass(frozen=True)
class AgentProfile:
    name: str
    skills: dict[str, int]
    channels: list[str]
    capacity: int
    sip_uri: str = ""


@dataclass(frozen=True)
class CreateAgent(Message):
    agent_id: str
    profile: AgentProfile


@dataclass(frozen=True)
class UpdateAgent(Message):
    agent_id: str
    profile: AgentProfile


@dataclass(frozen=True)
class GetAgent(Message):
    agent_id: str
    caller: Caller


@dataclass(frozen=True)
class SetAgentState(Message):
    agent_id: str
    state: str
    caller: Caller
    reason: str = ""


@dataclass(frozen=True)
class Heartbeat(Message):
    agent_id: str
    caller: Caller


@dataclass(frozen=True)
class ListOffers(Message):
    agent_id: str
    caller: Caller


@dataclass(frozen=True)
class ListAgentContacts(Message):
    agent_id: str
    caller: Caller


@dataclass(frozen=True)
class GetAgentOutcomes(Message):
    agent_id: str
    caller: Caller


# -- offers and contacts -----------------------------------------------------------------
@dataclass(frozen=True)
class AcceptOffer(Message):
    offer_id: str
    caller: Caller


@dataclass(frozen=True)
class DeclineOffer(Message):
    offer_id: str
    caller: Caller
    reason: str = ""


@dataclass(frozen=True)
class GetContact(Message):
    contact_id: str
    caller: Caller


@dataclass(frozen=True)
class CompleteContact(Message):
    contact_id: str
    caller: Caller
    disposition: str = ""


@dataclass(frozen=True)
class TransferContact(Message):
    """Hand an assigned contact on: to `queue`, to `agent` first, or to a supervisor."""
    contact_id: str
    caller: Caller
    queue: str = ""
    agent: str = ""
    supervisor: bool = False
    note: str = ""
    reason: str = ""
    warm: bool = False  # keep it until the named agent (or supervisor) accepts


@dataclass(frozen=True)
class PostAgentMessage(Message):
    contact_id: str
    caller: Caller
    text: str


@dataclass(frozen=True)
class GetTranscript(Message):
    contact_id: str
    caller: Caller


@dataclass(frozen=True)
class GetCustomerContext(Message):
    contact_id: str
    caller: Caller


@dataclass(frozen=True)
class SetCustomer(Message):
    customer_id: str
    profile: dict[str, Any]


@dataclass(frozen=True)
class GetCustomer(Message):
    customer_id: str


# -- policy, timers, outbox --------------------------------------------------------------
@dataclass(frozen=True)
class GetQueues(Message):
    pass


@dataclass(frozen=True)
class GetPolicy(Message):
    pass


@dataclass(frozen=True)
class GetQueueHours(Message):
    """Each queue open or closed now, by its hours of operation."""


@dataclass(frozen=True)
class ApplyPolicy(Message):
    policy: Policy
    source: str | None = None  # the policy file's hash; None: from the API


@dataclass(frozen=True)
class SyncPolicy(Message):
    """Pick up an edited policy file and a newer version another replica installed."""


@dataclass(frozen=True)
class DueTimers(Message):
    limit: int = 100


@dataclass(frozen=True)
class FireTimer(Message):
    member: str


@dataclass(frozen=True)
class RelayOutbox(Message):
    claim_abandoned: bool = False


# -- agent desktop -----------------------------------------------------------------------
@dataclass(frozen=True)
class OpenDesktop(Message):
    """An agent's desktop socket authenticated: returns the snapshot it starts from."""
    agent_id: str
    token: str
    socket: Any = field(compare=False)


@dataclass(frozen=True)
class CloseDesktop(Message):
    agent_id: str
    socket: Any = field(compare=False)


# -- ops ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class IsSupervisor(Message):
    token: str | None


@dataclass(frozen=True)
class RefreshStats(Message):
    pass


@dataclass(frozen=True)
class GetStats(Message):
    fresh: bool = True  # False: the latest report if there is one


@dataclass(frozen=True)
class GetStatsHistory(Message):
    pass


@dataclass(frozen=True)
class SubscribeStats(Message):
    pass


@dataclass(frozen=True)
class UnsubscribeStats(Message):
    subscription: Any = field(compare=False)


@dataclass(frozen=True)
class CheckSurveyLink(Message):
    contact_id: str
    token: str


@dataclass(frozen=True)
class SubmitSurvey(Message):
    contact_id: str
    token: str
    score: Any
    comment: str = ""
    complaint: bool = False


# -- webhooks ----------------------------------------------------------------------------
@dataclass(frozen=True)
class CreateWebhook(Message):
    url: str
    types: list[str]
    secret: str = ""  # empty: one is made
    description: str = ""


@dataclass(frozen=True)
class ListWebhooks(Message):
    pass


@dataclass(frozen=True)
class DeleteWebhook(Message):
    webhook_id: str


@dataclass(frozen=True)
class GetWebhookDeliveries(Message):
    webhook_id: str


@dataclass(frozen=True)
class DeliverWebhook(Message):
    """A routing event for one subscriber: delivered, retried, or given up after the last try."""
    webhook_id: str
    event: Envelope


# -- outbound campaigns ----------------------------------------------------------------
@dataclass(frozen=True)
class CreateCampaign(Message):
    campaign: Campaign


@dataclass(frozen=True)
class GetCampaign(Message):
    campaign_id: str


@dataclass(frozen=True)
class ListCampaigns(Message):
    pass


@dataclass(frozen=True)
class SetCampaignState(Message):
    campaign_id: str
    state: str  # running | paused | cancelled


@dataclass(frozen=True)
class PaceCampaigns(Message):
    """The pacer's tick: start what the running campaigns may start now."""


@dataclass(frozen=True)
class SetDoNotContact(Message):
    addresses: list[str]
    listed: bool


@dataclass(frozen=True)
class CheckDoNotContact(Message):
    address: str
