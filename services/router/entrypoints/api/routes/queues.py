"""Queues and the routing policy in force: read it, or replace it for every replica."""

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.router.domain import commands as c
from shared.policy import Policy

from ..deps import AdminDep, BusDep, SupervisorDep

api = APIRouter(tags=["queues"])


class ActivePolicy(BaseModel):
    version: int
    policy: Policy


@api.get("/queues")
async def queues(bus: BusDep, _: AdminDep) -> Policy:
    """The policy in force here: channels, tiers, queues and their steps."""
    return Policy.model_validate(await bus.handle(c.GetQueues()))


class QueueHours(BaseModel):
    queue: str
    open: bool = Field(description="Open now by its hours of operation (always, without a schedule)")
    opens_at: datetime | None = Field(description="When closed: its next opening (none within a year: null)")
    schedule: str | None
    hours: str | None = Field(description="Its weekly hours, as customers are told them")


@api.get("/queues/hours")
async def queue_hours(bus: SupervisorDep) -> list[QueueHours]:
    """Each queue open or closed now, and when it opens next (admin and ops tokens)."""
    return [QueueHours.model_validate(q) for q in await bus.handle(c.GetQueueHours())]


@api.get("/policy", response_model=ActivePolicy)
async def get_policy(bus: BusDep, _: AdminDep) -> ActivePolicy:
    version, policy = await bus.handle(c.GetPolicy())
    return ActivePolicy(version=version, policy=policy)


@api.put("/policy", response_model=ActivePolicy)
async def put_policy(body: Policy, bus: BusDep, _: AdminDep) -> ActivePolicy:
    """Validated like the policy file; in force at once here and on other replicas
    within OMNIROUTE_POLICY_POLL_MS. Refused (409) if it would strand waiting contacts.
    Without a `domain` it is the caller's domain's; naming another is a 422."""
    if "domain" not in body.model_fields_set:
        body = body.model_copy(update={"domain": bus.domain})
    return ActivePolicy(version=await bus.handle(c.ApplyPolicy(body)), policy=body)
