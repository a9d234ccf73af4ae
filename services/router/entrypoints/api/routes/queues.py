"""Queues and the routing policy in force."""

from fastapi import APIRouter

from ..deps import AdminDep, RouterDep

router = APIRouter(prefix="/queues", tags=["queues"])


@router.get("")
async def policy(router_: RouterDep, _: AdminDep) -> dict:
    return router_.policy.model_dump()
