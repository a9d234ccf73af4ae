"""Queues and the routing policy in force: read it, or replace it for every replica."""

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel

from services.router import handlers
from services.router.domain.policy import Policy

from ..deps import AdminDep, RouterDep

router = APIRouter(tags=["queues"])


class ActivePolicy(BaseModel):
    version: int
    policy: Policy


@router.get("/queues")
async def policy(router_: RouterDep, _: AdminDep) -> dict:
    return router_.policy.model_dump()


@router.get("/policy", response_model=ActivePolicy)
async def get_policy(router_: RouterDep, _: AdminDep) -> ActivePolicy:
    active = await router_.state.active_policy()
    if active is None:
        return ActivePolicy(version=router_.policy_version, policy=router_.policy)
    return ActivePolicy(version=active[0], policy=active[1])


@router.put("/policy", response_model=ActivePolicy)
async def put_policy(body: Policy, router_: RouterDep, _: AdminDep) -> ActivePolicy:
    """Validated like the policy file; in force at once here and on other replicas
    within OMNIROUTE_POLICY_POLL_MS. Refused (409) if it would strand waiting contacts."""
    try:
        version = await handlers.apply_policy(body, router_.deps)
    except handlers.PolicyConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    router_.policy, router_.policy_version = body, version
    return ActivePolicy(version=version, policy=body)
