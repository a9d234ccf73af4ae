"""Customers: the CRM profile the router reads the tier from."""

from fastapi import APIRouter, HTTPException, status

from ..deps import AdminDep, RouterDep, StateDep
from ..schemas import CustomerProfile

router = APIRouter(prefix="/customers", tags=["customers"])


@router.put("/{customer_id}", response_model=CustomerProfile)
async def set_customer(customer_id: str, body: CustomerProfile, router_: RouterDep, _: AdminDep) -> CustomerProfile:
    if body.tier not in router_.policy.tiers:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                            f"tier: unknown tier {body.tier!r}; known: {sorted(router_.policy.tiers)}")
    await router_.state.set_customer(customer_id, body.model_dump(exclude_none=True))
    return body


@router.get("/{customer_id}", response_model=CustomerProfile)
async def get_customer(customer_id: str, state: StateDep, _: AdminDep) -> CustomerProfile:
    raw = await state.get_customer(customer_id)
    if raw is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "customer not found")
    return CustomerProfile(**raw)
