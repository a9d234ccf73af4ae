"""The routing policy through the HTTP API (admin only), picked up by another replica
without a restart. Real Kafka and Redis via the integration harness."""

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from services.router.adapters.keys import key
from services.router.bootstrap import bootstrap
from services.router.domain.commands import SyncPolicy
from services.router.settings import RouterSettings
from tests.integration.conftest import harness, redis  # noqa: F401  (fixtures)
from tests.support.router_harness import ADMIN

pytestmark = pytest.mark.routing


async def test_admin_reads_and_replaces_the_policy_and_another_replica_follows(harness):
    r = await harness.http.get("/v1/policy", headers=ADMIN)
    assert r.status_code == 200, r.text
    version, doc = r.json()["version"], r.json()["policy"]
    assert doc["queues"]["support"]["strategy"] == "longest_idle"

    agent = await harness.agent("pat", {"support": 1})
    assert (await harness.http.get("/v1/policy", headers=agent)).status_code == 403
    assert (await harness.http.put("/v1/policy", headers=agent, json=doc)).status_code == 403

    doc["queues"]["support"]["strategy"] = "round_robin"
    doc["offer_timeout_s"] = 33
    r = await harness.http.put("/v1/policy", headers=ADMIN, json=doc)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == version + 1
    assert (await harness.http.get("/v1/queues", headers=ADMIN)).json()["offer_timeout_s"] == 33

    # a second replica (same Redis, same policy file) picks the new version up
    s = harness.service.settings
    other = bootstrap(RouterSettings(kafka_bootstrap=s.kafka_bootstrap, redis_url=s.redis_url,
                                     router_group=f"other-{uuid.uuid4().hex[:6]}"), kafka=False)
    try:
        assert other.deps.policy.policy.offer_timeout_s == 20  # from the file
        await other.bus.handle(SyncPolicy())
        assert other.deps.policy.version == version + 1
        assert other.deps.policy.policy.offer_timeout_s == 33
        assert other.deps.policy.policy.queues["support"].strategy == "round_robin"
    finally:
        await other.deps.store.close()

    cid = await harness.contact()
    offer = await harness.routing.wait("offer.issued", contact_id=cid)
    stored = (await harness.service.deps.store.get_offer(offer.data.offer_id)).raw
    assert int(stored["expires_at"]) - int(stored["issued_at"]) == 33_000


async def test_invalid_policy_is_refused_with_the_reason(harness):
    doc = (await harness.http.get("/v1/policy", headers=ADMIN)).json()["policy"]
    doc["default_queue"] = "nowhere"
    r = await harness.http.put("/v1/policy", headers=ADMIN, json=doc)
    assert r.status_code == 422
    assert "default_queue 'nowhere' is not a queue" in r.text
    doc["default_queue"] = "support"
    doc["queues"]["support"]["steps"] = []
    r = await harness.http.put("/v1/policy", headers=ADMIN, json=doc)
    assert r.status_code == 422 and "steps" in r.text
    r = await harness.http.get("/v1/policy", headers=ADMIN)
    assert r.json()["policy"]["default_queue"] == "support"


async def test_policy_that_strands_waiting_contacts_is_a_conflict(harness):
    cid = await harness.contact(intent="billing")
    await harness.routing.wait("contact.queued", contact_id=cid)
    doc = (await harness.http.get("/v1/policy", headers=ADMIN)).json()["policy"]
    del doc["queues"]["billing"]
    doc["routes"] = [r for r in doc["routes"] if r["queue"] != "billing"]
    r = await harness.http.put("/v1/policy", headers=ADMIN, json=doc)
    assert r.status_code == 409 and key("wait", "billing", 0, "chat") in r.text


async def test_a_bad_schedule_is_refused_naming_it(harness):
    doc = (await harness.http.get("/v1/policy", headers=ADMIN)).json()["policy"]
    doc["queues"]["support"]["schedule"] = "office"
    doc["schedules"] = {"office": {"timezone": "Europe/Lundon", "weekly": {"mon": ["09:00-17:00"]}}}
    r = await harness.http.put("/v1/policy", headers=ADMIN, json=doc)
    assert r.status_code == 422 and "unknown time zone 'Europe/Lundon'" in r.text
    doc["schedules"]["office"] = {"timezone": "Europe/London", "weekly": {"mon": ["09:00-13:00", "12:30-17:00"]}}
    r = await harness.http.put("/v1/policy", headers=ADMIN, json=doc)
    assert r.status_code == 422 and "mon: opening ranges overlap" in r.text
    doc["schedules"]["office"]["weekly"]["mon"] = ["09:00-12:30", "13:00-17:00"]
    r = await harness.http.put("/v1/policy", headers=ADMIN, json=doc)
    assert r.status_code == 200, r.text
    queues = (await harness.http.get("/v1/queues", headers=ADMIN)).json()
    assert queues["schedules"]["office"]["timezone"] == "Europe/London"
    hours = {q["queue"]: q for q in (await harness.http.get("/v1/queues/hours", headers=ADMIN)).json()}
    assert hours["support"]["schedule"] == "office" and hours["support"]["hours"] == (
        "mon 09:00-12:30, 13:00-17:00 (Europe/London)")
    if not hours["support"]["open"]:  # only Mondays: closed most of the week, and it says when it opens
        assert datetime.fromisoformat(hours["support"]["opens_at"]).astimezone(ZoneInfo("Europe/London")).weekday() == 0
    assert hours["billing"] == {"queue": "billing", "open": True, "opens_at": None, "schedule": None, "hours": None}
