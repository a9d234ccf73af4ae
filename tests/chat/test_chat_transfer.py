"""An agent transfers a chat from the desktop (Chromium): the customer keeps their place
and their conversation, and the next agent sees the transcript and the transfer note."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.chat.test_chat_e2e import SCREENSHOTS, WAIT_MS, open_desktop, open_widget, say

pytestmark = pytest.mark.chat


async def test_a_transferred_chat_keeps_its_place_and_transcript(stack, pages):
    alice = await stack.agent("alice", "Alice Agent", skills={"support": 3})
    widget = await open_widget(pages, stack, "Carol Customer", "carol@example.com")
    desk_a = await open_desktop(pages, stack, "alice", alice)
    offer = desk_a.get_by_test_id("offer")
    await expect(offer).to_have_count(1, timeout=WAIT_MS)
    await offer.get_by_role("button", name="Accept").click()
    await say(widget, "composer", "My invoice shows the wrong plan")
    agent_log = desk_a.get_by_test_id("agent-log")
    await expect(agent_log).to_contain_text("My invoice shows the wrong plan", timeout=WAIT_MS)
    await say(desk_a, "reply", "Let me pass you to billing")
    cid = (await stack.routing.wait("contact.assigned", agent_id="alice")).data.contact_id

    # Another billing chat arrives after Carol's and waits: nobody in billing is signed in.
    later = await open_widget(pages, stack, "Dan Later", "dan@example.com", topic="billing")
    await expect(later.get_by_test_id("status")).to_contain_text("number 1 in the queue", timeout=WAIT_MS)

    transfer = desk_a.get_by_test_id("transfer")
    await transfer.locator("select[name=queue]").select_option("billing")
    await transfer.locator("input[name=note]").fill("Plan changed on the 3rd, invoice still old")
    await transfer.get_by_role("button", name="Transfer").click()
    await expect(desk_a.get_by_test_id("contact")).to_have_count(0, timeout=WAIT_MS)
    moved = await stack.routing.wait("contact.transferred", contact_id=cid)
    assert (moved.data.from_agent, moved.data.from_queue, moved.data.queue) == ("alice", "support", "billing")
    # Carol was in the conversation first: she is ahead of Dan in billing.
    await expect(widget.get_by_test_id("status")).to_contain_text("number 1 in the queue", timeout=WAIT_MS)
    await expect(later.get_by_test_id("status")).to_contain_text("number 2 in the queue", timeout=WAIT_MS)

    bob = await stack.agent("bob", "Bob Billing", skills={"billing": 4}, capacity=34)  # one chat at a time
    desk_b = await open_desktop(pages, stack, "bob", bob)
    offer_b = desk_b.get_by_test_id("offer")
    await expect(offer_b).to_have_count(1, timeout=WAIT_MS)
    await expect(offer_b).to_contain_text("Carol Customer")  # not Dan, who came later
    await offer_b.get_by_role("button", name="Accept").click()
    log_b = desk_b.get_by_test_id("agent-log")
    await expect(log_b).to_contain_text("My invoice shows the wrong plan", timeout=WAIT_MS)
    await expect(log_b).to_contain_text("Let me pass you to billing")
    await expect(desk_b.get_by_test_id("ctx-transfer note")).to_have_text("Plan changed on the 3rd, invoice still old")
    await expect(desk_b.get_by_test_id("ctx-transferred by")).to_have_text("alice")
    await expect(widget.get_by_test_id("log")).to_contain_text("Bob Billing joined", timeout=WAIT_MS)
    await expect(widget.get_by_test_id("status")).to_have_text("Connected to an agent")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await desk_b.screenshot(path=str(SCREENSHOTS / "agent-desktop-transfer.png"))
    await say(desk_b, "reply", "Fixed: the new invoice is on its way")
    await expect(widget.get_by_test_id("log")).to_contain_text("Fixed: the new invoice", timeout=WAIT_MS)
    assert pages.dialogs == []


async def test_a_warm_transfer_stays_with_the_first_agent_until_the_second_accepts(stack, pages):
    alice = await stack.agent("alice", "Alice Agent", skills={"support": 3})
    widget = await open_widget(pages, stack, "Walt Warm", "walt@example.com")
    desk_a = await open_desktop(pages, stack, "alice", alice)
    await desk_a.get_by_test_id("offer").get_by_role("button", name="Accept").click()
    await expect(desk_a.get_by_test_id("contact")).to_have_count(1, timeout=WAIT_MS)
    bob = await stack.agent("bob", "Bob Second", skills={"support": 1})
    desk_b = await open_desktop(pages, stack, "bob", bob)

    transfer = desk_a.get_by_test_id("transfer")
    for answer in ("Decline", "Accept"):
        await transfer.locator("input[name=agent]").fill("bob")
        await transfer.locator("input[name=warm]").check()
        await transfer.get_by_role("button", name="Transfer").click()
        await expect(desk_a.get_by_test_id("pane")).to_contain_text("Waiting for bob to accept", timeout=WAIT_MS)
        await expect(desk_a.get_by_test_id("contact")).to_have_count(1)  # alice stays with Walt meanwhile
        offer = desk_b.get_by_test_id("offer")
        await expect(offer).to_contain_text("Walt Warm", timeout=WAIT_MS)
        await offer.get_by_role("button", name=answer).click()
        if answer == "Decline":
            await expect(desk_a.get_by_test_id("pane")).to_contain_text(
                "bob did not take the transfer (declined): the contact is still yours", timeout=WAIT_MS)
    await expect(desk_a.get_by_test_id("contact")).to_have_count(0, timeout=WAIT_MS)
    await expect(desk_b.get_by_test_id("contact")).to_have_count(1)
    await expect(desk_b.get_by_test_id("ctx-transferred by")).to_have_text("alice", timeout=WAIT_MS)
    await expect(widget.get_by_test_id("log")).to_contain_text("Bob Second joined", timeout=WAIT_MS)
    moved = await stack.routing.wait("contact.transferred")
    assert moved.data.warm and moved.data.to_agent == "bob"
    assert pages.dialogs == []
