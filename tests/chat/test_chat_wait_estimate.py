"""The wait a customer is shown follows the router's order, in Chromium on the real
stack: a premium customer who arrives behind a basic one is shown first, the basic one
moves to second, and the estimate is the router's (agents staffed, handle time)."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.chat.conftest import ADMIN
from tests.chat.test_chat_e2e import WAIT_MS, open_widget

pytestmark = pytest.mark.chat


async def test_a_premium_customer_behind_a_basic_one_is_shown_first(stack, pages):
    # One billing agent, busy with Al's chat: everyone else waits, and the estimate has
    # someone to count on (the default handle time, two chats at once).
    token = await stack.agent("bea", "Bea", skills={"billing": 4}, capacity=34, login=True)
    await open_widget(pages, stack, "Al Early", "al@example.com", topic="billing")
    offer = await stack.routing.wait("offer.issued", agent_id="bea")
    r = await stack.http.post(f"{stack.router_url}/v1/offers/{offer.data.offer_id}/accept",
                              headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    r = await stack.http.put(f"{stack.router_url}/v1/customers/email:pia@example.com", headers=ADMIN,
                             json={"tier": "premium"})
    assert r.status_code == 200, r.text

    basic = await open_widget(pages, stack, "Bo Basic", "bo@example.com", topic="billing")
    await expect(basic.get_by_test_id("status")).to_contain_text("You are number 1 in the queue", timeout=WAIT_MS)
    bo = await stack.routing.wait("contact.queued", customer_id="email:bo@example.com")
    assert (bo.data.position, bo.data.estimated_wait_s) == (1, 90.0)  # 180 s handling over 2 chats at once

    premium = await open_widget(pages, stack, "Pia Premium", "pia@example.com", topic="billing")
    pia = await stack.routing.wait("contact.queued", tier="premium")
    assert pia.data.position == 1  # the router put her ahead of Bo
    await expect(premium.get_by_test_id("status")).to_contain_text("You are number 1 in the queue", timeout=WAIT_MS)
    await expect(basic.get_by_test_id("status")).to_contain_text("You are number 2 in the queue", timeout=WAIT_MS)
    await expect(basic.get_by_test_id("status")).to_contain_text("about 3 min")  # 2 places x 90 s
