"""Agents: profile, presence, and what they hold (offers, contacts); offers answered."""

from __future__ import annotations

from shared import tracing
from shared.policy import qualifications

from ..domain import commands as c
from ..domain import sso, tenancy
from ..domain.errors import Conflict, Invalid, NotFound, Unauthorized
from ..domain.records import AgentRecord, OfferRecord
from .access import raise_for, require_agent
from .deps import RouterDeps
from .sso import session_of

OFFER_REFUSALS = {
    "not_found": "offer not found",
    "forbidden": "this offer belongs to another agent",
    "gone": "offer is no longer pending (expired, declined or withdrawn)",
}


async def authenticate(msg: c.Authenticate, deps: RouterDeps) -> c.Caller:
    """The caller behind a token, acting on this bus's domain (403 if the token is
    another domain's)."""
    s, domain = deps.settings, deps.domain
    if tenancy.same(msg.token, s.admin_token):
        return c.Caller(admin=True, domain=domain)
    owner = tenancy.scoped_domain(msg.token, s.domain_tokens, ("admin",))
    if owner is not None:
        tenancy.check_scope(owner, domain)
        return c.Caller(admin=True, domain=domain)
    tenancy.check_scope(tenancy.agent_token_domain(msg.token), domain)
    if sso.is_session_token(msg.token):
        session = await session_of(msg.token, deps)
        if session is None:
            raise Unauthorized("signed out or expired: sign in again")
        return c.Caller(admin=session.admin, agent_id=session.acts_as, domain=domain)
    agent_id = await deps.store.agent_for_token(msg.token)
    if agent_id is None:
        raise Unauthorized("invalid token")
    return c.Caller(agent_id=agent_id, domain=domain)


def _profile(deps: RouterDeps, p: c.AgentProfile) -> dict:
    policy = deps.policy.policy
    unknown = set(p.channels) - set(policy.channels)
    if unknown:
        raise Invalid(f"channels: unknown channel(s) {sorted(unknown)}")
    return {"name": p.name, "capacity": p.capacity, "channels": p.channels, "skills": p.skills,
            "sip_uri": p.sip_uri or "", "quals": qualifications(policy, p.skills)}


async def _existing(deps: RouterDeps, agent_id: str) -> AgentRecord:
    agent = await deps.store.get_agent(agent_id)
    if agent is None:
        raise NotFound(f"agent {agent_id!r} not found")
    return agent


async def create_agent(msg: c.CreateAgent, deps: RouterDeps) -> str:
    """Returns the agent's bearer token (shown once)."""
    if await deps.store.get_agent(msg.agent_id):
        raise Conflict(f"agent {msg.agent_id!r} already exists")
    await deps.store.upsert_agent(msg.agent_id, _profile(deps, msg.profile))
    token = tenancy.mint_agent_token(deps.domain)
    await deps.store.register_agent_token(msg.agent_id, token)
    return token


async def update_agent(msg: c.UpdateAgent, deps: RouterDeps) -> AgentRecord:
    await _existing(deps, msg.agent_id)
    await deps.store.upsert_agent(msg.agent_id, _profile(deps, msg.profile))
    return await _existing(deps, msg.agent_id)


async def get_agent(msg: c.GetAgent, deps: RouterDeps) -> AgentRecord:
    require_agent(msg.caller, msg.agent_id)
    return await _existing(deps, msg.agent_id)


async def set_agent_state(msg: c.SetAgentState, deps: RouterDeps) -> AgentRecord:
    require_agent(msg.caller, msg.agent_id)
    if await deps.store.set_agent_state(msg.agent_id, msg.state, msg.reason) == "not_found":  # the transition checks
        raise NotFound(f"agent {msg.agent_id!r} not found")
    return await _existing(deps, msg.agent_id)


async def heartbeat(msg: c.Heartbeat, deps: RouterDeps) -> str:
    require_agent(msg.caller, msg.agent_id)
    result = await deps.store.heartbeat(msg.agent_id)
    if result == "not_found":
        raise NotFound(f"agent {msg.agent_id!r} not found")
    return result


async def list_offers(msg: c.ListOffers, deps: RouterDeps) -> list[OfferRecord]:
    require_agent(msg.caller, msg.agent_id)
    return await deps.store.pending_offers(msg.agent_id)


async def list_agent_contacts(msg: c.ListAgentContacts, deps: RouterDeps) -> list[str]:
    require_agent(msg.caller, msg.agent_id)
    return await deps.store.agent_contacts(msg.agent_id)


async def agent_outcomes(msg: c.GetAgentOutcomes, deps: RouterDeps) -> dict[str, dict]:
    """What best_outcome queues have learnt of the agent, per intent and channel."""
    require_agent(msg.caller, msg.agent_id)
    await _existing(deps, msg.agent_id)
    return await deps.store.outcomes(msg.agent_id)


async def accept_offer(msg: c.AcceptOffer, deps: RouterDeps) -> str:
    agent_id = await _offer_owner(deps, msg.offer_id, msg.caller)
    with tracing.joining(await _contact_trace(deps, msg.offer_id), "router accept offer"):
        result = await deps.store.accept_offer(msg.offer_id, agent_id)
    return raise_for(result, OFFER_REFUSALS)


async def _contact_trace(deps: RouterDeps, offer_id: str) -> str | None:
    """The trace of the offer's contact, when tracing is on (two reads then; none otherwise)."""
    if not tracing.enabled():
        return None
    offer = await deps.store.get_offer(offer_id)
    return await deps.store.contact_trace(offer.contact) if offer else None


async def decline_offer(msg: c.DeclineOffer, deps: RouterDeps) -> str:
    agent_id = await _offer_owner(deps, msg.offer_id, msg.caller)
    return raise_for(await deps.store.decline_offer(msg.offer_id, agent_id, msg.reason), OFFER_REFUSALS)


async def _offer_owner(deps: RouterDeps, offer_id: str, caller: c.Caller) -> str:
    """Who answers: the calling agent (the transition refuses another's offer), or for an
    admin the agent the offer is for."""
    if not caller.admin:
        return caller.agent_id
    offer = await deps.store.get_offer(offer_id)
    if offer is None:
        raise NotFound("offer not found")
    return offer.agent
