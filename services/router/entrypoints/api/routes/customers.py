"""Customers: the CRM profile the router reads the tier from."""

from fastapi import APIRouter

from services.router.domain import commands as c

from ..deps import AdminDep, BusDep
from ..schemas import CustomerProfile

api = APIRouter(prefix="/customers", tags=["customers"])


@api.put("/{customer_id}", response_model=CustomerProfile)
async def set_customer(customer_id: str, body: CustomerProfile, bus: BusDep, _: AdminDep) -> CustomerProfile:
    await bus.handle(c.SetCustomer(customer_id, body.model_dump(exclude_none=True)))
    return body


@api.get("/{customer_id}", response_model=CustomerProfile)
async def get_customer(customer_id: str, bus: BusDep, _: AdminDep) -> CustomerProfile:
    return CustomerProfile(**await bus.handle(c.GetCustomer(customer_id)))
