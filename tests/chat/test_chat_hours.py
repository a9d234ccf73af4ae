"""The widget (Chromium) when the chat queue is closed: the topic shows closed and the
next opening; a chat started anyway is told the hours and ends, never queued."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.chat.test_chat_e2e import SCREENSHOTS, WAIT_MS, open_widget
from tests.support.hours import closed_policy

pytestmark = pytest.mark.chat


@pytest.fixture
def closed(tmp_path):
    return closed_policy(tmp_path / "policy")


@pytest.fixture
def stack_policy(closed) -> dict:
    return {"policy_file": closed.file}


async def test_a_closed_queue_shows_its_hours_and_a_chat_is_told_them(stack, pages, closed):
    page = await pages(width=420, height=640)
    await page.goto(f"{stack.chat_url}/widget")
    hours = page.get_by_test_id("hours")
    await expect(hours).to_contain_text("Closed now · opens", timeout=WAIT_MS)
    await expect(hours).to_contain_text("mon-sun ")
    topics = (await stack.http.get(f"{stack.chat_url}/v1/topics")).json()
    assert {t["id"]: t["open"] for t in topics} == {"general": False, "billing": False, "complaint": False}
    assert topics[0]["opens_at"].startswith(closed.opens_at.strftime("%Y-%m-%dT%H:%M"))

    await open_widget(pages, stack, "Nina Night", "nina@example.com", page=page)
    status = page.get_by_test_id("status")
    await expect(status).to_contain_text("We are closed right now. Our hours: mon-sun", timeout=WAIT_MS)
    await expect(status).to_contain_text(f"We open again on {closed.opens_at:%A %d %B at %H:%M} UTC")
    deferred = await stack.routing.wait("contact.deferred")
    assert deferred.data.action == "leave"
    assert stack.routing.of("contact.queued", contact_id=deferred.data.contact_id) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "chat-widget-closed.png"))
    assert pages.dialogs == []
