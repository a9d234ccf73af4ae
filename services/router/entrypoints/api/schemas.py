"""HTTP request and response bodies."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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


class CustomerProfile(Body):
    tier: Slug
    name: str | None = Field(default=None, max_length=200)


class Outcome(BaseModel):
    result: str


class MessageIn(Body):
    text: str = Field(min_length=1, max_length=20000)
