"""The HTTP CRM adapter against a real HTTP server the test runs: a good answer sets the
tier (cached), a slow or failing CRM never holds a contact (the cached answer or the
default tier is used, and counted), and the local profile stays the override."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from services.router.adapters.crm import LOOKUPS
from tests.support.router_harness import ADMIN, running_router
from tests.support.serve import serve

pytestmark = pytest.mark.integration
ACCOUNTS = {"+15550001": {"account": {"level": "Gold", "id": "A-1"}, "display": "Grace Gold", "flags": {"vip": True}}}


@dataclass
class FakeCrm:
    """What the CRM does next: answer, hang (until released), or fail."""

    mode: str = "good"
    asked: list[tuple[str, str]] = field(default_factory=list)  # (customer id, Authorization)
    hanging: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def customer(self, request: Request) -> JSONResponse:
        cid = request.path_params["cid"]
        self.asked.append((cid, request.headers.get("authorization", "")))
        if self.mode == "slow":
            self.hanging += 1
            await self.release.wait()
            self.hanging -= 1
        if self.mode == "failing":
            return JSONResponse({"error": "database unavailable"}, status_code=503)
        if cid not in ACCOUNTS:
            return JSONResponse({"error": "no such customer"}, status_code=404)
        return JSONResponse(ACCOUNTS[cid])


@contextlib.asynccontextmanager
async def router_with_crm(infra, crm: FakeCrm, **overrides):
    app = Starlette(routes=[Route("/customers/{cid}", crm.customer)])
    async with serve(app) as url, running_router(infra, **{
        "crm_url": url + "/customers/{customer_id}", "crm_timeout_s": 0.3, "crm_auth": "Bearer crm-key",
        "crm_mapping": {"tier": "account.level", "id": "account.id", "name": "display", "vip": "flags.vip"},
        "crm_tiers": {"Gold": "premium"}, **overrides}) as harness:
        try:
            yield harness
        finally:
            crm.release.set()


def counted(result: str) -> float:
    return LOOKUPS.labels(result=result)._value.get()


async def queued_tier(harness, customer: str, **kw) -> str:
    cid = await harness.contact(customer=customer, **kw)
    return (await harness.routing.wait("contact.queued", contact_id=cid)).data.tier


async def test_a_crm_answer_sets_the_tier_and_is_cached(infra, redis):
    crm = FakeCrm()
    async with router_with_crm(infra, crm) as harness:
        assert await queued_tier(harness, "+15550001") == "premium"  # Gold, translated
        assert crm.asked == [("+15550001", "Bearer crm-key")]
        cached = counted("cached")
        assert await queued_tier(harness, "+15550001") == "premium"
        assert len(crm.asked) == 1 and counted("cached") == cached + 1  # not asked again
        assert await queued_tier(harness, "+15550999") == "basic"  # unknown to the CRM: 404
        cid = await harness.contact(customer="+15550001")
        await harness.routing.wait("contact.queued", contact_id=cid)
        ctx = (await harness.http.get(f"/v1/contacts/{cid}/context", headers=ADMIN)).json()
        assert ctx["crm"] == {"id": "A-1", "tier": "premium", "name": "Grace Gold", "vip": "true"}


async def test_a_slow_crm_never_holds_a_contact(infra, redis):
    crm = FakeCrm(mode="slow")
    async with router_with_crm(infra, crm) as harness:
        timeouts = counted("timeout")
        cid = await harness.contact(customer="+15550001")
        queued = await harness.routing.wait("contact.queued", contact_id=cid)
        assert crm.hanging == 1  # the CRM has still not answered
        assert queued.data.tier == "basic"  # the default tier, routed meanwhile
        assert counted("timeout") == timeouts + 1


async def test_a_failing_crm_falls_back_to_the_last_answer_then_is_skipped(infra, redis):
    crm = FakeCrm()
    async with router_with_crm(infra, crm, crm_cache_s=0, crm_breaker_failures=2) as harness:
        assert await queued_tier(harness, "+15550001") == "premium"
        crm.mode = "failing"
        errors, skipped = counted("error"), counted("skipped")
        assert await queued_tier(harness, "+15550001") == "premium"  # the answer kept stands in
        assert await queued_tier(harness, "+15550002") == "basic"  # nothing kept: default tier
        assert counted("error") == errors + 2
        asked = len(crm.asked)
        assert await queued_tier(harness, "+15550001") == "premium"  # breaker open: not asked
        assert len(crm.asked) == asked and counted("skipped") == skipped + 1


async def test_the_local_profile_overrides_the_crm(infra, redis):
    crm = FakeCrm()
    async with router_with_crm(infra, crm) as harness:
        r = await harness.http.put("/v1/customers/+15550001", headers=ADMIN, json={"tier": "enhanced"})
        assert r.status_code == 200, r.text
        assert await queued_tier(harness, "+15550001") == "enhanced"
        assert crm.asked == []
