"""Outbound campaigns: created and steered through the API, paced by a loop of every
replica (each start is one atomic transition, so replicas never start a target twice),
and the do-not-contact list they honour."""

from __future__ import annotations

from shared.policy import Policy

from ..domain import commands as c
from ..domain.campaigns import Campaign, progress
from ..domain.errors import Conflict, Invalid, NotFound
from .deps import RouterDeps

STARTS_PER_TICK = 10  # targets one campaign may start per pacer tick


def _check_against(policy: Policy, campaign: Campaign) -> None:
    queue = policy.queues.get(campaign.queue)
    if queue is None:
        raise Invalid(f"queue {campaign.queue!r} is not in the routing policy")
    if campaign.channel == "voice" and "voice" not in queue.channels:
        raise Invalid(f"queue {campaign.queue!r} does not serve voice")
    if campaign.schedule and campaign.schedule not in policy.schedules:
        raise Invalid(f"schedule {campaign.schedule!r} is not in the routing policy")


async def create_campaign(msg: c.CreateCampaign, deps: RouterDeps) -> dict:
    policy, campaign = deps.policy.policy, msg.campaign
    _check_against(policy, campaign)
    first_step = policy.queues[campaign.queue].steps[0]
    spec = {**campaign.compiled(), "skills": [s.model_dump() for s in first_step.skills]}
    if await deps.store.create_campaign(spec, campaign.target_rows()) == "exists":
        raise Conflict(f"campaign {campaign.id!r} exists")
    return await get_campaign(c.GetCampaign(campaign.id), deps)


async def get_campaign(msg: c.GetCampaign, deps: RouterDeps) -> dict:
    found = await deps.store.campaign(msg.campaign_id)
    if found is None:
        raise NotFound(f"campaign {msg.campaign_id!r} not found")
    return progress(found)


async def recent_campaigns(deps: RouterDeps, limit: int) -> list[dict]:
    """The newest campaigns' progress (running or kept after they ended); those whose
    keys expired leave the index."""
    ids = await deps.store.campaign_ids(limit)
    found = await deps.store.campaigns(ids)
    await deps.store.forget_campaigns([i for i, f in zip(ids, found, strict=True) if f is None])
    return [progress(f) for f in found if f is not None]


async def list_campaigns(msg: c.ListCampaigns, deps: RouterDeps) -> list[dict]:
    return await recent_campaigns(deps, 50)


async def set_campaign_state(msg: c.SetCampaignState, deps: RouterDeps) -> dict:
    result = await deps.store.set_campaign_state(msg.campaign_id, msg.state)
    if result == "not_found":
        raise NotFound(f"campaign {msg.campaign_id!r} not found")
    if result == "finished":
        raise Conflict(f"campaign {msg.campaign_id!r} has ended")
    return await get_campaign(c.GetCampaign(msg.campaign_id), deps)


async def pace_campaigns(msg: c.PaceCampaigns, deps: RouterDeps) -> int:
    """Start what each running campaign may start now (in its hours, agents free)."""
    policy, now, started = deps.policy.policy, deps.store.now(), 0
    for campaign_id, spec in await deps.store.running_campaigns():
        schedule = policy.schedules.get(spec.get("schedule") or "")
        open_now = schedule is None or schedule.is_open(now)
        started += await deps.store.release_campaign(campaign_id, open_now, STARTS_PER_TICK)
    return started


async def set_do_not_contact(msg: c.SetDoNotContact, deps: RouterDeps) -> int:
    return await deps.store.do_not_contact(msg.addresses, add=msg.listed)


async def check_do_not_contact(msg: c.CheckDoNotContact, deps: RouterDeps) -> bool:
    return await deps.store.on_do_not_contact(msg.address)
