"""Agents: profile, skills, capacity, login/logout, state, offers and contacts."""

from __future__ import annotations

from fastapi import APIRouter, status

from services.router.domain import commands as c
from services.router.domain.records import AgentRecord

from ..deps import AdminDep, BusDep, CallerDep
from ..schemas import (
    AgentCreate,
    AgentCreated,
    AgentOutcome,
    AgentProfile,
    AgentView,
    OfferView,
    Outcome,
    StateChange,
)

api = APIRouter(prefix="/agents", tags=["agents"])


def _profile(body: AgentProfile) -> c.AgentProfile:
    return c.AgentProfile(name=body.name, skills=body.skills, channels=body.channels, capacity=body.capacity,
                          sip_uri=body.sip_uri or "")


def _view(a: AgentRecord) -> AgentView:
    return AgentView(id=a.id, name=a.name, state=a.state, reason=a.reason, skills=a.skills, channels=a.channels,
                     capacity=a.capacity, load=a.load, sip_uri=a.sip_uri or None)


@api.post("", status_code=status.HTTP_201_CREATED, response_model=AgentCreated)
async def create_agent(body: AgentCreate, bus: BusDep, _: AdminDep) -> AgentCreated:
    token = await bus.handle(c.CreateAgent(body.id, _profile(body)))
    return AgentCreated(id=body.id, token=token)


@api.put("/{agent_id}", response_model=AgentView)
async def update_agent(agent_id: str, body: AgentProfile, bus: BusDep, _: AdminDep) -> AgentView:
    return _view(await bus.handle(c.UpdateAgent(agent_id, _profile(body))))


@api.get("/{agent_id}", response_model=AgentView)
async def get_agent(agent_id: str, bus: BusDep, who: CallerDep) -> AgentView:
    return _view(await bus.handle(c.GetAgent(agent_id, who)))


@api.post("/{agent_id}/login", response_model=AgentView)
async def login(agent_id: str, bus: BusDep, who: CallerDep) -> AgentView:
    return _view(await bus.handle(c.SetAgentState(agent_id, "available", who)))


@api.post("/{agent_id}/logout", response_model=AgentView)
async def logout(agent_id: str, bus: BusDep, who: CallerDep) -> AgentView:
    return _view(await bus.handle(c.SetAgentState(agent_id, "offline", who)))


@api.put("/{agent_id}/state", response_model=AgentView)
async def set_state(agent_id: str, body: StateChange, bus: BusDep, who: CallerDep) -> AgentView:
    return _view(await bus.handle(c.SetAgentState(agent_id, body.state, who, body.reason)))


@api.post("/{agent_id}/heartbeat", response_model=Outcome)
async def heartbeat(agent_id: str, bus: BusDep, who: CallerDep) -> Outcome:
    return Outcome(result=await bus.handle(c.Heartbeat(agent_id, who)))


@api.get("/{agent_id}/offers")
async def pending_offers(agent_id: str, bus: BusDep, who: CallerDep) -> list[OfferView]:
    return [OfferView.model_validate(o.view()) for o in await bus.handle(c.ListOffers(agent_id, who))]


@api.get("/{agent_id}/outcomes")
async def outcomes(agent_id: str, bus: BusDep, who: CallerDep) -> list[AgentOutcome]:
    """What best_outcome queues have learnt of the agent: surveys and handle time per intent."""
    learnt = await bus.handle(c.GetAgentOutcomes(agent_id, who))
    return [AgentOutcome(intent=pair.split("|")[0], channel=pair.split("|")[1], **f) for pair, f in learnt.items()]


@api.get("/{agent_id}/contacts")
async def active_contacts(agent_id: str, bus: BusDep, who: CallerDep) -> list[str]:
    return await bus.handle(c.ListAgentContacts(agent_id, who))
