"""Who may act on what: an agent only on their own profile, offers and contacts."""

from __future__ import annotations

from ..domain.commands import Caller
from ..domain.errors import Conflict, Forbidden, Invalid, NotFound
from .deps import RouterDeps


def require_agent(caller: Caller, agent_id: str) -> None:
    if not caller.admin and caller.agent_id != agent_id:
        raise Forbidden("agents can act only on their own work")


async def assigned_contact(deps: RouterDeps, contact_id: str, caller: Caller):
    """The contact, for its assigned agent (or an admin) only."""
    c = await deps.store.get_contact(contact_id)
    if c is None:
        raise NotFound("contact not found")
    require_agent(caller, c.agent)
    return c


# What a transition's refusals mean.
REFUSALS = {"not_found": NotFound, "forbidden": Forbidden, "gone": Conflict,
            "no_queue": Invalid, "no_agent": Invalid, "self": Invalid, "agent_away": Conflict,
            "no_supervisor": Conflict, "warm_needs_agent": Invalid, "agent_busy": Conflict}


def raise_for(result: str, messages: dict[str, str]) -> str:
    """A transition's refusal as the error it means (with its message); anything else
    is its outcome."""
    if result in messages:
        raise REFUSALS[result](messages[result])
    return result
