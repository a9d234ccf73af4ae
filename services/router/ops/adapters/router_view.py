"""Read-only view of the router's live agent state, through RoutingState's public
reads (never its keys): which logged-in agents are eligible for each queue and
channel, and which of them could take a contact right now. This is the one place
ops depends on routing state rather than on events, because skills and capacity
are profile data that no event carries."""

from __future__ import annotations

import asyncio
import json

from services.router.adapters.state import RoutingState
from services.router.domain.policy import Policy


async def eligible_agents(state: RoutingState, policy: Policy) -> dict[tuple[str, str], dict[str, int]]:
    """{(queue, channel): {"staffed": n, "available": n}} over logged-in agents."""
    out = {(q, ch): {"staffed": 0, "available": 0} for q, qp in policy.queues.items() for ch in qp.channels}
    ids = await state.agent_ids()
    for raw in await asyncio.gather(*(state.get_agent(a) for a in ids)):
        if not raw or raw.get("state", "offline") == "offline":
            continue
        channels = set(json.loads(raw.get("channels") or "[]"))
        queues = {qual["q"] for qual in json.loads(raw.get("quals") or "[]")}
        free = int(raw.get("capacity", 0)) - int(raw.get("load", 0))
        for (q, ch), counts in out.items():
            if q in queues and ch in channels:
                counts["staffed"] += 1
                cost = policy.channels[ch].cost
                if raw["state"] == "available" and free >= cost:
                    counts["available"] += 1
    return out
