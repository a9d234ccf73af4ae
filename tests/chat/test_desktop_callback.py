"""The agent desktop (Chromium) with a callback contact: the number to call back, the
request's time and its attempts beside the customer, and the policy's dispositions."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import expect

from shared.cloudevents import new_event
from shared.events import ContactCreated, ContactUpdated, Customer, event_type
from shared.kafka import make_producer, publish
from tests.chat.test_chat_e2e import SCREENSHOTS, WAIT_MS, open_desktop
from tests.support.router_harness import infra_address

pytestmark = pytest.mark.chat


async def test_the_desktop_shows_a_callback_contact_and_the_policys_dispositions(stack, pages, infra):
    cid = f"v-{uuid.uuid4().hex}"
    created = ContactCreated(id=cid, channel="voice", intent="billing", customer=Customer(
        id="+15550199", address="+15550199", name="Rosa Ring"), metadata={"ani": "+15550199", "dnis": "2000"})
    update = ContactUpdated(contact_id=cid, metadata={  # what the voice gateway records on key 9
        "callback": True, "callback_number": "+15550199", "callback_requested_at": "2026-11-27T16:40:00+00:00"})
    producer = make_producer(infra_address(infra, "kafka_bootstrap"))
    await producer.start()
    try:
        await publish(producer, new_event(event_type("contact.created"), created, source="tests", key=cid))
        await stack.routing.wait("contact.queued", contact_id=cid)
        await publish(producer, new_event(event_type("contact.updated"), update, source="tests", key=cid))
    finally:
        await producer.stop()

    policy = (await stack.http.get(f"{stack.router_url}/v1/queues", headers=stack.admin)).json()
    policy["dispositions"] = {"called_back": "Called back", "no_reply": "No reply", "wrong_number": "Wrong number"}
    r = await stack.http.put(f"{stack.router_url}/v1/policy", headers=stack.admin, json=policy)
    assert r.status_code == 200, r.text
    r = await stack.http.post(f"{stack.router_url}/v1/agents", headers=stack.admin, json={
        "id": "vic", "name": "Vic Voice", "skills": {"billing": 4}, "channels": ["voice"], "capacity": 100})
    assert r.status_code == 201, r.text
    desk = await open_desktop(pages, stack, "vic", r.json()["token"])
    offer = desk.get_by_test_id("offer")
    await expect(offer).to_contain_text("voice · billing", timeout=WAIT_MS)
    await offer.get_by_role("button", name="Accept").click()
    await expect(desk.get_by_test_id("ctx-callback number")).to_have_text("+15550199", timeout=WAIT_MS)
    await expect(desk.get_by_test_id("ctx-name")).to_have_text("Rosa Ring")
    options = desk.get_by_test_id("wrapup").locator("select[name=disposition] option")
    assert await options.all_text_contents() == ["Called back", "No reply", "Wrong number"]
    queues = desk.get_by_test_id("transfer").locator("select[name=queue] option")
    assert await queues.all_text_contents() == ["same queue", *(f"to {q}" for q in sorted(policy["queues"]))]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await desk.screenshot(path=str(SCREENSHOTS / "agent-desktop-callback.png"))
    assert pages.dialogs == []
