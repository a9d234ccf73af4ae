"""Self-service before a chat, in Chromium on the real stack: the widget shows the
queue's articles that match the customer's question; "this solved it" ends there (the
chat never reaches the queue) and is counted on the router's stats and metrics;
"I still need to chat" starts the chat with the question as its first message."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.chat.conftest import ADMIN
from tests.chat.test_chat_e2e import SCREENSHOTS, WAIT_MS, open_widget
from tests.support.poll import until

pytestmark = pytest.mark.chat


async def ask(pages, stack, name: str, email: str, question: str):
    return await open_widget(pages, stack, name, email, question=question)


async def queue_row(stack, queue: str, channel: str) -> dict:
    report = (await stack.http.get(f"{stack.router_url}/v1/stats", headers=ADMIN)).json()
    return next(q for q in report["queues"] if (q["queue"], q["channel"]) == (queue, channel))


async def test_a_deflected_chat_never_reaches_the_queue_and_is_counted(stack, pages):
    page = await ask(pages, stack, "Dana", "dana@example.com", "I forgot my password and I am locked out")
    answers = page.get_by_test_id("suggestions")
    await expect(answers).to_be_visible(timeout=WAIT_MS)
    first = answers.locator("li").first
    await expect(first).to_contain_text("How do I reset my password?")  # the best match first
    await page.screenshot(path=SCREENSHOTS / "chat-widget-self-service.png")
    await first.get_by_role("button", name="This solved it").click()
    await expect(page.get_by_test_id("status")).to_contain_text("Glad that helped", timeout=WAIT_MS)

    accepted = await stack.contacts.wait("deflection.accepted")
    assert (accepted.data.queue, accepted.data.channel, accepted.data.article_id) == ("support", "chat", "reset-password")
    offered = stack.contacts.of("deflection.offered", id=accepted.data.id)
    assert offered and offered[0].data.articles[0] == "reset-password"
    assert stack.contacts.of("contact.created") == []  # Dana's chat never became a contact

    # Counted on the router: its stats (the ops page's self-service table) and /metrics.
    row = await until(lambda: _with(queue_row(stack, "support", "chat"), "deflections_accepted"), 20,
                      what="the deflection in the router's stats")
    assert (row["today"]["deflections_offered"], row["today"]["deflections_accepted"]) == (1, 1)
    assert row["today"]["deflection_rate"] == 1.0
    metrics = (await stack.http.get(f"{stack.router_url}/metrics")).text
    assert 'omniroute_deflections_total{channel="chat",domain="default",outcome="accepted",queue="support"} 1.0' in metrics

    again = await stack.http.post(f"{stack.chat_url}/v1/suggestions/{accepted.data.id}/solved",
                                  json={"article_id": "reset-password"})
    assert again.status_code == 404  # counted once


async def test_still_needing_to_chat_starts_it_with_the_question(stack, pages):
    page = await ask(pages, stack, "Eli", "eli@example.com", "Where is my parcel? It did not arrive")
    answers = page.get_by_test_id("suggestions")
    await expect(answers.locator("li").first).to_contain_text("Where is my parcel?", timeout=WAIT_MS)
    await page.click("text=I still need to chat")
    log = page.get_by_test_id("log")
    await expect(log).to_contain_text("Where is my parcel? It did not arrive", timeout=WAIT_MS)
    created = await stack.contacts.wait("contact.created")
    assert created.data.customer.address == "eli@example.com"
    await stack.routing.wait("contact.queued", contact_id=created.data.id)


async def test_a_question_nothing_answers_goes_straight_to_the_chat(stack, pages):
    page = await ask(pages, stack, "Flo", "flo@example.com", "zxqv wobble frobnicate")
    await expect(page.get_by_test_id("log")).to_contain_text("zxqv wobble frobnicate", timeout=WAIT_MS)
    assert await page.get_by_test_id("suggestions").is_hidden()
    assert stack.contacts.of("deflection.offered") == []


async def _with(row, field: str):
    found = await row
    return found if found["today"][field] else None
