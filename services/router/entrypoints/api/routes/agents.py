"""Agents: profile, skills, capacity, login/logout, state, offers and contacts."""

from __future__ import annotations

import json
import secrets

from fastapi import APIRouter, HTTPException, status

from services.router.domain.policy import qualifications

from ..deps import AdminDep, PrincipalDep, RouterDep, StateDep
from ..schemas import (
    AgentCreate,
    AgentCreated,
    AgentProfile,
    AgentView,
    Outcome,
    StateChange,
)

router = APIRouter(prefix="/agents", tags=["agents"])


def _profile_args(router_: RouterDep, profile: AgentProfile) -> dict:
    unknown = set(profile.channels) - set(router_.policy.channels)
    if unknown:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"channels: unknown channel(s) {sorted(unknown)}")
    return {
        "name": profile.name,
        "capacity": profile.capacity,
        "channels": profile.channels,
        "skills": profile.skills,
        "sip_uri": profile.sip_uri or "",
        "quals": qualifications(router_.policy, profile.skills),
    }


def _view(agent_id: str, raw: dict) -> AgentView:
    return AgentView(
        id=agent_id, name=raw["name"], state=raw["state"], reason=raw.get("reason", ""),
        skills=json.loads(raw["skills"]), channels=json.loads(raw["channels"]),
        capacity=int(raw["capacity"]), load=int(raw.get("load", 0)), sip_uri=raw.get("sip_uri") or None,
    )


async def _existing(state: StateDep, agent_id: str) -> dict:
    raw = await state.get_agent(agent_id)
    if raw is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"agent {agent_id!r} not found")
    return raw


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AgentCreated)
async def create_agent(body: AgentCreate, router_: RouterDep, _: AdminDep) -> AgentCreated:
    if await router_.state.get_agent(body.id):
        raise HTTPException(status.HTTP_409_CONFLICT, f"agent {body.id!r} already exists")
    await router_.state.upsert_agent(body.id, _profile_args(router_, body))
    token = secrets.token_urlsafe(24)
    await router_.state.register_agent_token(body.id, token)
    return AgentCreated(id=body.id, token=token)


@router.put("/{agent_id}", response_model=AgentView)
async def update_agent(agent_id: str, body: AgentProfile, router_: RouterDep, _: AdminDep) -> AgentView:
    await _existing(router_.state, agent_id)
    await router_.state.upsert_agent(agent_id, _profile_args(router_, body))
    return _view(agent_id, await router_.state.get_agent(agent_id))


@router.get("/{agent_id}", response_model=AgentView)
async def get_agent(agent_id: str, state: StateDep, who: PrincipalDep) -> AgentView:
    who.require_agent(agent_id)
    return _view(agent_id, await _existing(state, agent_id))


async def _set_state(state: StateDep, agent_id: str, new: str, reason: str = "") -> AgentView:
    await _existing(state, agent_id)
    await state.set_agent_state(agent_id, new, reason)
    return _view(agent_id, await state.get_agent(agent_id))


@router.post("/{agent_id}/login", response_model=AgentView)
async def login(agent_id: str, state: StateDep, who: PrincipalDep) -> AgentView:
    who.require_agent(agent_id)
    return await _set_state(state, agent_id, "available")


@router.post("/{agent_id}/logout", response_model=AgentView)
async def logout(agent_id: str, state: StateDep, who: PrincipalDep) -> AgentView:
    who.require_agent(agent_id)
    return await _set_state(state, agent_id, "offline")


@router.put("/{agent_id}/state", response_model=AgentView)
async def set_state(agent_id: str, body: StateChange, state: StateDep, who: PrincipalDep) -> AgentView:
    who.require_agent(agent_id)
    return await _set_state(state, agent_id, body.state, body.reason)


@router.post("/{agent_id}/heartbeat", response_model=Outcome)
async def heartbeat(agent_id: str, router_: RouterDep, who: PrincipalDep) -> Outcome:
    who.require_agent(agent_id)
    result = await router_.state.heartbeat(agent_id)
    if result == "not_found":
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"agent {agent_id!r} not found")
    return Outcome(result=result)


@router.get("/{agent_id}/offers")
async def pending_offers(agent_id: str, state: StateDep, who: PrincipalDep) -> list[dict]:
    who.require_agent(agent_id)
    return await state.pending_offers(agent_id)


@router.get("/{agent_id}/contacts")
async def active_contacts(agent_id: str, state: StateDep, who: PrincipalDep) -> list[str]:
    who.require_agent(agent_id)
    return await state.agent_contacts(agent_id)
