"""contact.updated from gateways: metadata, escalation, re-queue after a failed hand-off."""

import pytest

from shared.cloudevents import new_event
from shared.events import ContactUpdated, event_type
from shared.kafka import publish
from tests.support.poll import until
from tests.support.router_harness import ADMIN

pytestmark = pytest.mark.integration


async def update(harness, **fields):
    data = ContactUpdated(**fields)
    await publish(harness.producer, new_event(event_type("contact.updated"), data, source="tests", key=data.contact_id))


async def test_metadata_is_merged_and_visible(harness):
    cid = await harness.contact(channel="voice", metadata={"ani": "+15550100"})
    await harness.routing.wait("contact.queued", contact_id=cid)
    await update(harness, contact_id=cid, metadata={"callback": True, "callback_number": "+15550100"})

    async def merged():
        r = await harness.http.get(f"/v1/contacts/{cid}", headers=ADMIN)
        return r.json()["contact"]["metadata"].get("callback") and r.json()
    view = await until(merged, what="metadata merged")
    assert view["contact"]["metadata"] == {"ani": "+15550100", "callback": True, "callback_number": "+15550100"}
    assert view["state"] == "queued"


async def test_escalation_moves_a_contact_ahead_at_once(harness):
    first = await harness.contact()
    second = await harness.contact()
    await harness.routing.wait("contact.queued", contact_id=second)
    await update(harness, contact_id=second, escalate=True)
    await harness.routing.wait("contact.escalated", contact_id=second)

    await harness.agent("ann", {"support": 1}, capacity=34)
    offer = await harness.routing.wait("offer.issued")
    assert offer.data.contact_id == second
    assert harness.routing.of("offer.issued", contact_id=first) == []


async def test_failed_handoff_requeues_at_the_original_place(harness):
    bob = await harness.agent("bob", {"support": 1}, channels=["voice"])
    first = await harness.contact(channel="voice")
    offer = await harness.routing.wait("offer.issued", contact_id=first)
    await harness.http.post(f"/v1/offers/{offer.data.offer_id}/accept", headers=bob)
    await harness.routing.wait("contact.assigned", contact_id=first)
    later = await harness.contact(channel="voice")
    await harness.routing.wait("contact.queued", contact_id=later)

    # bob steps away; the first caller comes back and must still be ahead of the later one
    r = await harness.http.put("/v1/agents/bob/state", headers=bob, json={"state": "not_ready", "reason": "break"})
    assert r.status_code == 200
    await update(harness, contact_id=first, requeue_reason="transfer_failed")
    await harness.routing.wait("contact.requeued", contact_id=first, reason="transfer_failed")
    r = await harness.http.get("/v1/agents/bob", headers=ADMIN)
    assert r.json()["load"] == 0  # the failed hand-off gave bob's capacity back
    await harness.agent("cy", {"support": 1}, channels=["voice"])
    offer = await harness.routing.wait("offer.issued", agent_id="cy")
    assert offer.data.contact_id == first
