"""HTTP request and response bodies."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.events import ChannelName, KeyId, Level, Slug


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgentProfile(Body):
    name: str = Field(min_length=1, max_length=200)
    skills: dict[Slug, Level] = Field(default_factory=dict, description="skill -> proficiency 1..5")
    channels: list[ChannelName] = Field(default_factory=lambda: ["voice", "chat", "email"])
    capacity: int = Field(default=100, ge=1, le=1000, description="Capacity units; channels cost units per contact")
    sip_uri: str | None = Field(default=None, pattern=r"^sips?:[^\s]+$", description="Phone the voice gateway transfers calls to")


class AgentCreate(AgentProfile):
    id: KeyId


class AgentCreated(BaseModel):
    id: str
    token: str = Field(description="Shown once; the agent's bearer token")


class AgentView(BaseModel):
    id: str
    name: str
    state: str
    reason: str
    skills: dict[str, int]
    channels: list[str]
    capacity: int
    load: int
    sip_uri: str | None = None


class StateChange(Body):
    state: Literal["available", "not_ready", "offline"]
    reason: str = Field(default="", max_length=100)


class Decline(Body):
    reason: str = Field(default="", max_length=200)


class Completion(Body):
    disposition: str = Field(default="", max_length=200)


class TransferIn(Body):
    """Where the contact goes: `queue` (default: its own), `agent` first, or the queue's
    supervisor (`supervisor: true`, an escalation). `note` is for the next agent only."""
    queue: Slug | None = None
    agent: KeyId | None = None
    supervisor: bool = False
    warm: bool = Field(default=False, description="Keep the contact until the agent (or supervisor) accepts; "
                       "answers `consulting`, and it stays yours if they decline or do not answer")
    note: str = Field(default="", max_length=2000)
    reason: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _one_target(self) -> TransferIn:
        if self.agent and self.supervisor:
            raise ValueError("name an agent or ask for a supervisor, not both")
        return self


class CustomerProfile(Body):
    tier: Slug
    name: str | None = Field(default=None, max_length=200)


class Outcome(BaseModel):
    result: str


class MessageIn(Body):
    text: str = Field(min_length=1, max_length=20000)


# -- what the GETs answer --------------------------------------------------------------
class ContactView(BaseModel):
    """A contact's routing record (its stored fields, as text) and the contact itself."""

    model_config = ConfigDict(extra="allow")
    id: str
    state: str = Field(description="queued, offered, assigned, wrapup, completed, abandoned, overflowed")
    channel: str
    queue: str
    tier: str = ""
    intent: str = ""
    agent: str = ""
    offer: str = ""
    contact: dict[str, Any] = Field(description="contact.created's data, with the gateways' later metadata")


class AgentOutcome(BaseModel):
    """What best_outcome queues have learnt of an agent on one intent and channel."""

    intent: str
    channel: str
    surveys: int = Field(description="survey answers counted (the latest 100 at most)")
    csat: float | None = Field(description="their mean score, 1-5 (none before the first)")
    completed: int
    handle_ms: int = Field(description="recent mean handle time")


class OfferView(BaseModel):
    """A pending offer's record (stored fields, as text)."""

    model_config = ConfigDict(extra="allow")
    id: str
    contact: str
    agent: str
    state: str
    queue: str
    channel: str
    expires_at: str = Field(description="epoch milliseconds")


class PreviousContact(BaseModel):
    id: str
    channel: str
    queue: str
    state: str
    disposition: str
    at: float = Field(description="epoch milliseconds")


class CustomerContext(BaseModel):
    customer: dict[str, Any] = Field(description="the customer as the gateway named them: id, address, name")
    tier: str
    crm: dict[str, str] = Field(description="the customer's profile: the local one (PUT /v1/customers), else the CRM's")
    intent: str
    queue: str
    channel: str
    metadata: dict[str, Any]
    previous: list[PreviousContact] = Field(description="newest first, at most 10")


Figures = dict[str, int | float | None]  # offered, answered, abandoned, service level, ASA, AHT, ...


class SlaTarget(BaseModel):
    threshold_s: float
    percent: float


class QueueStats(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    queue: str
    channel: str
    sla: SlaTarget
    waiting: int
    longest_wait_s: float
    agents: dict[str, int] = Field(description="staffed and available eligible agents")
    last_15m: Figures = Field(alias="15m")
    today: Figures


class CenterStats(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    agents: dict[str, int] = Field(description="agents by state (busy: available with work)")
    waiting: int
    last_15m: Figures = Field(alias="15m")
    today: Figures


class Window(BaseModel):
    start_ms: int
    end_ms: int


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


class StatsReport(BaseModel):
    now_ms: int
    windows: dict[str, Window]
    queues: list[QueueStats]
    center: CenterStats
    campaigns: list[CampaignProgress] = Field(default_factory=list, description="the newest outbound campaigns")


class StatsSample(BaseModel):
    t: int
    waiting: dict[str, int]
    sl: dict[str, float | None]
    agents: dict[str, int]


class StaffingAdvice(BaseModel):
    model_config = ConfigDict(extra="allow")
    queue: str
    channel: str
    staffed: int
    arrivals_per_hour: float
    aht_s: float | None
    traffic_erlang: float
    patience_s: float | None
    target_s: float
    percent: float
    erlang_c: dict[str, Any] | None
    erlang_a: dict[str, Any] | None


class Staffing(BaseModel):
    now_ms: int
    queues: list[StaffingAdvice]
