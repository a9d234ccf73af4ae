"""A customer in the widget and an agent at the desktop, in Chromium, on the real stack."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from pathlib import Path

import pytest
import websockets
from playwright.async_api import expect

from tests.support.frames import next_frame
from tests.support.poll import until

pytestmark = pytest.mark.chat

XSS = "<img src=x onerror=alert(1)>"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WAIT_MS = 20_000


async def open_desktop(pages, stack, agent_id: str, token: str):
    page = await pages()
    await page.goto(f"{stack.router_url}/desktop")
    await page.fill("input[name=agent_id]", agent_id)
    await page.fill("input[name=token]", token)
    await page.click("text=Sign in")
    await expect(page.get_by_test_id("presence")).to_have_text("available", timeout=WAIT_MS)
    await expect(page.get_by_test_id("link")).to_have_text("connected", timeout=WAIT_MS)
    return page


async def open_widget(pages, stack, name: str, email: str, topic: str = "general", page=None, question: str = ""):
    """`question`: asked first, so self-service articles may be offered before the chat."""
    page = page or await pages(width=420, height=640)  # the size it has when embedded
    await page.goto(f"{stack.chat_url}/widget")
    await page.fill("input[name=name]", name)
    await page.fill("input[name=email]", email)
    await page.select_option("select[name=topic]", topic)
    if question:
        await page.fill("textarea[name=question]", question)
    await page.click("text=Start chat")
    return page


async def say(page, form: str, text: str) -> None:
    await page.fill(f"#{form} input[name=text]", text)
    await page.press(f"#{form} input[name=text]", "Enter")


async def test_customer_and_agent_chat_from_queue_to_wrap_up(stack, pages):
    token = await stack.agent("alice", "Alice Agent")
    widget = await open_widget(pages, stack, "Carol Customer", "carol@example.com", topic="billing")
    # billing needs skill billing>=3: nobody yet, so Carol waits and sees her place.
    status = widget.get_by_test_id("status")
    await expect(status).to_contain_text("You are number 1 in the queue", timeout=WAIT_MS)
    await expect(status).to_contain_text("wait")
    await say(widget, "composer", "Hello, I was charged twice")
    await say(widget, "composer", XSS)
    log = widget.get_by_test_id("log")
    await expect(log.locator("li")).to_have_count(2, timeout=WAIT_MS)

    r = await stack.http.put(f"{stack.router_url}/v1/agents/alice", headers={"Authorization": "Bearer chat-test-admin-token"},
                             json={"name": "Alice Agent", "skills": {"billing": 4}, "channels": ["chat"], "capacity": 100})
    assert r.status_code == 200, r.text
    desk = await open_desktop(pages, stack, "alice", token)
    offer = desk.get_by_test_id("offer")
    await expect(offer).to_have_count(1, timeout=WAIT_MS)
    await expect(offer).to_contain_text("chat · billing")
    await expect(offer).to_contain_text("Carol Customer")
    await expect(offer.get_by_test_id("countdown")).to_have_text(re.compile(r"^\d+ s to answer$"))
    await offer.get_by_role("button", name="Accept").click()

    # accepted: the contact is active, the pane shows what Carol wrote while waiting
    await expect(desk.get_by_test_id("contact")).to_have_count(1, timeout=WAIT_MS)
    agent_log = desk.get_by_test_id("agent-log")
    await expect(agent_log).to_contain_text("Hello, I was charged twice", timeout=WAIT_MS)
    await expect(agent_log.locator("li", has_text=XSS)).to_have_count(1, timeout=WAIT_MS)
    await expect(desk.get_by_test_id("ctx-tier")).to_have_text("basic", timeout=WAIT_MS)
    await expect(desk.get_by_test_id("ctx-address")).to_have_text("carol@example.com")
    await expect(log).to_contain_text("Alice Agent joined", timeout=WAIT_MS)
    await expect(status).to_have_text("Connected to an agent")

    await say(desk, "reply", "Hi Carol, I am refunding the second charge")
    await expect(log.locator("li[data-sender=agent]")).to_contain_text("Hi Carol, I am refunding", timeout=WAIT_MS)
    await expect(agent_log).to_contain_text("Alice Agent joined")

    # the payload is shown literally on both pages and never became an element
    for page, pane in ((widget, log), (desk, agent_log)):
        await expect(pane.locator("li", has_text=XSS)).to_have_count(1)
        assert await pane.locator("img").count() == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await widget.screenshot(path=str(SCREENSHOTS / "chat-widget.png"))
    await desk.screenshot(path=str(SCREENSHOTS / "agent-desktop.png"))

    # network drop: the tab is gone; a new one resumes with the stored token
    context = widget.context
    await widget.close()
    resumed = await pages(context)
    await resumed.goto(f"{stack.chat_url}/widget")
    log2 = resumed.get_by_test_id("log")
    expected = ["Hello, I was charged twice", XSS, "Alice Agent joined", "Hi Carol, I am refunding the second charge"]
    await expect(log2.locator("li")).to_have_count(len(expected), timeout=WAIT_MS)
    texts = [t.strip() for t in await log2.locator("li").all_text_contents()]
    assert [any(t.endswith(e) for t in texts) for e in expected] == [True] * len(expected), texts
    cid = (await stack.routing.wait("contact.assigned", agent_id="alice")).data.contact_id
    assert stack.contacts.of("contact.ended", contact_id=cid) == []  # resumed within the grace period
    await say(resumed, "composer", "Thanks, that was quick")
    await expect(agent_log).to_contain_text("Thanks, that was quick", timeout=WAIT_MS)

    await desk.select_option("select[name=disposition]", "resolved")
    await desk.get_by_role("button", name="Complete").click()
    await expect(resumed.get_by_test_id("status")).to_have_text("The agent closed this chat", timeout=WAIT_MS)
    await expect(desk.get_by_test_id("contact")).to_have_count(0)
    done = await stack.routing.wait("contact.completed", agent_id="alice")
    assert done.data.disposition == "resolved"

    # the survey: Carol rates the chat 4 with a comment; it is published once and counted
    survey = resumed.get_by_test_id("survey")
    await expect(survey).to_be_visible(timeout=WAIT_MS)
    await survey.get_by_role("button", name="4", exact=True).click()
    await survey.locator("textarea[name=comment]").fill(f"Quick refund {XSS}")
    await resumed.screenshot(path=str(SCREENSHOTS / "chat-survey.png"))
    await survey.get_by_role("button", name="Send feedback").click()
    await expect(resumed.get_by_test_id("survey-note")).to_have_text("Thank you for your feedback!", timeout=WAIT_MS)
    await expect(survey).to_be_hidden()
    answer = await stack.contacts.wait("survey.submitted", contact_id=cid)
    assert (answer.data.score, answer.data.comment, answer.data.complaint) == (4, f"Quick refund {XSS}", False)
    assert answer.source == "omniroute/chat-gateway"
    stats = await until(lambda: _stats_row(stack, done.data.queue, "chat", lambda row: row["today"]["surveys"] == 1),
                        WAIT_MS / 1000, what="survey counted in /v1/stats")
    assert (stats["today"]["csat"], stats["today"]["csat_satisfied"]) == (4.0, 1.0)
    await resumed.reload()  # answered: a reload does not offer it again
    await expect(resumed.get_by_test_id("status")).to_have_text("The agent closed this chat", timeout=WAIT_MS)
    assert await survey.is_hidden()
    assert len(stack.contacts.of("survey.submitted", contact_id=cid)) == 1
    assert pages.dialogs == []


async def _stats_row(stack, queue: str, channel: str, check):
    r = await stack.http.get(f"{stack.router_url}/v1/stats", headers={"Authorization": "Bearer chat-test-admin-token"})
    assert r.status_code == 200, r.text
    row = next((q for q in r.json()["queues"] if (q["queue"], q["channel"]) == (queue, channel)), None)
    return row if row and check(row) else None


async def test_survey_is_for_the_completed_contact_once_and_checked(stack):
    token = await stack.agent("ivy", "Ivy", login=True)
    async with websockets.connect(stack.ws_url) as ws:
        await ws.send(json.dumps({"type": "start", "name": "Pat", "email": "pat@example.com", "topic": "general"}))
        started = await next_frame(ws, "started")
        cid = started["conversation_id"]
        # before the agent completed the chat there is nothing to rate; the socket stays open
        await ws.send(json.dumps({"type": "survey", "score": 5}))
        assert (await next_frame(ws, "error"))["code"] == "survey_not_open"
        offer = await stack.routing.wait("offer.issued", contact_id=cid)
        r = await stack.http.post(f"{stack.router_url}/v1/offers/{offer.data.offer_id}/accept", headers=bearer(token))
        assert r.status_code == 200, r.text
        r = await stack.http.post(f"{stack.router_url}/v1/contacts/{cid}/complete", headers=bearer(token),
                                  json={"disposition": "resolved"})
        assert r.status_code == 200, r.text
        assert await next_frame(ws, "ended") == {"type": "ended", "reason": "completed", "survey": True}
        await ws.send(json.dumps({"type": "survey", "score": 2, "comment": "  slow  "}))
        assert await next_frame(ws, "survey_recorded") == {"type": "survey_recorded"}
        await ws.send(json.dumps({"type": "survey", "score": 5}))  # a second answer is refused politely
        assert await next_frame(ws, "error") == {
            "type": "error", "code": "survey_answered", "detail": "Thank you, we already have your answer"}
        await ws.send(json.dumps({"type": "ping"}))
        assert await next_frame(ws, "pong") == {"type": "pong"}
    answer = await stack.contacts.wait("survey.submitted", contact_id=cid)
    assert (answer.data.score, answer.data.comment) == (2, "slow")

    # resumed with its token: ended, nothing left to rate, and a second socket can't answer again
    async with websockets.connect(stack.ws_url) as ws:
        await ws.send(json.dumps({"type": "resume", "token": started["token"], "conversation_id": cid}))
        assert await next_frame(ws, "ended") == {"type": "ended", "reason": "completed", "survey": False}
        await ws.send(json.dumps({"type": "survey", "score": 1}))
        assert (await next_frame(ws, "error"))["code"] == "survey_answered"

    # the frame names no contact (only the socket's own), and the score must be 1-5 as a number
    bad = [({"contact_id": "chat-someone-else"}, "contact_id: Extra inputs are not permitted"),
           ({"score": 0}, "score: Input should be greater than or equal to 1"),
           ({"score": 6}, "score: Input should be less than or equal to 5"),
           ({"score": "5"}, "score: Input should be a valid integer"),
           ({"score": 4, "comment": "x" * 2001}, "comment: String should have at most 2000 characters")]
    for extra, reason in bad:
        async with websockets.connect(stack.ws_url) as ws:
            await ws.send(json.dumps({"type": "resume", "token": started["token"], "conversation_id": cid}))
            await next_frame(ws, "ended")
            await ws.send(json.dumps({"type": "survey", "score": 3, **extra}))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await ws.recv()
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4400, reason), extra
    assert len(stack.contacts.of("survey.submitted", contact_id=cid)) == 1


async def test_another_customers_token_is_refused(stack, pages):
    a = await start_ws(stack, "Ann", "ann@example.com")
    b = await start_ws(stack, "Ben", "ben@example.com")

    # Ben's token on Ann's conversation: refused with 4403, over the socket and HTTP
    code, reason = await resume_ws(stack, b["token"], a["conversation_id"])
    assert (code, reason) == (4403, "this token belongs to another conversation")
    r = await stack.http.get(f"{stack.chat_url}/v1/conversations/{a['conversation_id']}/transcript",
                             headers=bearer(b["token"]))
    assert r.status_code == 403, r.text
    r = await stack.http.get(f"{stack.chat_url}/v1/conversations/{a['conversation_id']}/transcript",
                             headers=bearer(a["token"]))
    assert r.status_code == 200 and r.json() == []
    forged = a["token"][:-3] + ("AAA" if not a["token"].endswith("AAA") else "BBB")
    assert (await resume_ws(stack, forged, a["conversation_id"]))[0] == 4401

    # the widget with Ben's token stored for Ann's chat shows the refusal, not her chat
    page = await pages()
    await page.goto(f"{stack.chat_url}/widget")
    await page.evaluate("([c, t]) => localStorage.setItem('omniroute.chat', JSON.stringify({conversation_id: c, token: t}))",
                        [a["conversation_id"], b["token"]])
    await page.reload()
    await expect(page.get_by_test_id("error")).to_have_text("That chat belongs to someone else.", timeout=WAIT_MS)
    await expect(page.get_by_test_id("start-form")).to_be_visible()
    assert await page.evaluate("localStorage.getItem('omniroute.chat')") is None


async def test_agent_b_cannot_accept_or_watch_agent_as_offer(stack, pages, sockets):
    token_a = await stack.agent("ava", "Ava", login=True)
    token_b = await stack.agent("bob", "Bob", skills={"sales": 3}, login=True)
    started = await chat_ws(stack, sockets, "Cy", "cy@example.com")
    offer = await stack.routing.wait("offer.issued", contact_id=started["conversation_id"])
    assert offer.data.agent_id == "ava"

    r = await stack.http.post(f"{stack.router_url}/v1/offers/{offer.data.offer_id}/accept", headers=bearer(token_b))
    assert r.status_code == 403, r.text
    r = await stack.http.get(f"{stack.router_url}/v1/contacts/{started['conversation_id']}/transcript",
                             headers=bearer(token_b))
    assert r.status_code == 403, r.text
    stream = stack.router_url.replace("http://", "ws://") + "/v1/agents/ava/stream"
    async with websockets.connect(stream) as ws:  # Bob's token on Ava's stream
        await ws.send(json.dumps({"type": "auth", "token": token_b}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd.code == 4403
    async with websockets.connect(stream) as ws:  # her own token: snapshot, then heartbeats
        await ws.send(json.dumps({"type": "auth", "token": token_a}))
        hello = json.loads(await ws.recv())
        assert hello["type"] == "hello" and [o["offer_id"] for o in hello["offers"]] == [offer.data.offer_id]
        await ws.send(json.dumps({"type": "heartbeat"}))
        assert json.loads(await ws.recv()) == {"type": "heartbeat", "result": "ok"}
        await ws.send(json.dumps({"type": "accept", "offer_id": offer.data.offer_id}))  # actions go via the API
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd.code == 4400

    # the offer is still Ava's, on her desktop
    desk = await open_desktop(pages, stack, "ava", token_a)
    await expect(desk.get_by_test_id("offer")).to_have_count(1, timeout=WAIT_MS)
    r = await stack.http.post(f"{stack.router_url}/v1/offers/{offer.data.offer_id}/accept", headers=bearer(token_a))
    assert r.status_code == 200, r.text
    await expect(desk.get_by_test_id("contact")).to_have_count(1, timeout=WAIT_MS)


async def test_not_ready_with_a_reason_gets_no_offers_until_available(stack, pages, sockets):
    token = await stack.agent("nina", "Nina")
    desk = await open_desktop(pages, stack, "nina", token)
    await desk.select_option("#presence-form select[name=state]", "not_ready")
    await desk.select_option("#presence-form select[name=reason]", "lunch")
    await desk.click("#presence-form button")
    await expect(desk.get_by_test_id("presence")).to_have_text("not ready: lunch", timeout=WAIT_MS)
    started = await chat_ws(stack, sockets, "Ola", "ola@example.com")
    await stack.routing.wait("contact.queued", contact_id=started["conversation_id"])
    assert await desk.get_by_test_id("offer").count() == 0
    await desk.select_option("#presence-form select[name=state]", "available")
    await desk.click("#presence-form button")
    await expect(desk.get_by_test_id("presence")).to_have_text("available", timeout=WAIT_MS)
    await expect(desk.get_by_test_id("offer")).to_have_count(1, timeout=WAIT_MS)
    offers = stack.routing.of("offer.issued", contact_id=started["conversation_id"])
    assert len(offers) == 1 and offers[0].data.agent_id == "nina"
    states = [e.data.state for e in stack.routing.of("agent.state_changed", agent_id="nina")]
    assert states[-2:] == ["not_ready", "available"], states


async def test_agent_holds_chats_up_to_capacity(stack, pages, sockets):
    token = await stack.agent("dora", "Dora")
    desk = await open_desktop(pages, stack, "dora", token)
    chats = [await chat_ws(stack, sockets, f"Guest {i}", f"guest{i}@example.com") for i in range(3)]
    offers = desk.get_by_test_id("offer")
    await expect(offers).to_have_count(2, timeout=WAIT_MS)  # 2 x 34 of 100; a third would be 102
    for remaining in (1, 0):
        await offers.first.get_by_role("button", name="Accept").click()
        await expect(offers).to_have_count(remaining, timeout=WAIT_MS)
    await expect(desk.get_by_test_id("contact")).to_have_count(2, timeout=WAIT_MS)
    third = chats[2]["conversation_id"]
    assert stack.routing.of("offer.issued", contact_id=third) == []
    r = await stack.http.get(f"{stack.router_url}/v1/agents/dora", headers=bearer(token))
    assert r.json()["load"] == 68


async def test_customer_who_leaves_before_an_answer_is_abandoned(stack):
    async with websockets.connect(stack.ws_url) as ws:
        await ws.send(json.dumps({"type": "start", "name": "Lea", "customer_id": "cust-lea", "topic": "general"}))
        started = json.loads(await ws.recv())
        cid = started["conversation_id"]
        await stack.routing.wait("contact.queued", contact_id=cid)
        await ws.send(json.dumps({"type": "leave"}))
        frames = [json.loads(f) async for f in ws]  # the server says goodbye and closes
    assert frames[-1] == {"type": "ended", "reason": "customer_left"}, frames
    assert ws.close_code == 1000
    ended = await stack.contacts.wait("contact.ended", contact_id=cid)
    assert ended.data.reason == "customer_left"
    await stack.routing.wait("contact.abandoned", contact_id=cid)

    # a socket that just drops: after the grace period the contact ends too
    dropped = await start_ws(stack, "Max", "max@example.com")
    await stack.routing.wait("contact.queued", contact_id=dropped["conversation_id"])
    ended = await stack.contacts.wait("contact.ended", contact_id=dropped["conversation_id"])
    assert ended.data.reason == "customer_disconnected"
    await stack.routing.wait("contact.abandoned", contact_id=dropped["conversation_id"])


async def overflow_to_callback(stack, queue: str = "support") -> None:
    """Nobody may wait in `queue`: a contact no agent can take at once leaves as a callback."""
    doc = (await stack.http.get(f"{stack.router_url}/v1/policy", headers=stack.admin)).json()["policy"]
    doc["queues"][queue] |= {"max_waiting": 0, "overflow_action": "callback"}
    r = await stack.http.put(f"{stack.router_url}/v1/policy", headers=stack.admin, json=doc)
    assert r.status_code == 200, r.text


async def test_a_chat_the_queue_cannot_take_is_told_and_closed_as_a_callback(stack):
    await overflow_to_callback(stack)
    async with websockets.connect(stack.ws_url) as ws:
        await ws.send(json.dumps({"type": "start", "name": "Ola", "email": "ola@example.com", "topic": "general"}))
        cid = json.loads(await ws.recv())["conversation_id"]
        ended = await asyncio.wait_for(next_frame(ws, "ended"), 20)
    assert ended["reason"] == "callback" and "get back to you" in ended["text"]
    overflowed = await stack.routing.wait("contact.overflowed", contact_id=cid)
    assert overflowed.data.action == "callback"


async def test_bad_input_closes_the_socket_with_a_reason(stack):
    cases = [
        ("not json", 4400, "frame is not JSON"),
        (json.dumps({"type": "message", "text": "hi"}), 4400, "the first frame must be start or resume"),
        (json.dumps({"type": "start", "name": "Nobody", "topic": "general"}), 4400, "give an email or a customer id"),
        (json.dumps({"type": "start", "name": "X", "email": "x@example.com", "topic": "nope"}), 4400, "unknown topic"),
        (json.dumps({"type": "resume", "token": "garbage"}), 4401, "conversation token is not valid"),
    ]
    for frame, code, reason in cases:
        got_code, got_reason = await first_frame_closes(stack, frame)
        assert got_code == code and reason in got_reason, (frame, got_code, got_reason)
    r = await stack.http.get(f"{stack.chat_url}/v1/conversations/x/transcript")
    assert r.status_code == 401
    # nothing bad reached Kafka: only the valid start above would have made a contact
    assert stack.contacts.of("contact.created") == []

    # the public endpoint is rate-limited per address
    used = len(cases) + 1
    codes = [(await first_frame_closes(stack, json.dumps({"type": "ping"})))[0] for _ in range(40 - used + 1)]
    assert codes[:-1] == [4400] * (len(codes) - 1) and codes[-1] == 4429, codes
    r = await stack.http.get(f"{stack.chat_url}/v1/conversations/x/transcript")
    assert r.status_code == 429
    metrics = (await stack.http.get(f"{stack.chat_url}/metrics", follow_redirects=True)).text
    assert 'omniroute_chat_sockets_refused_total{code="4429"}' in metrics


# -- helpers --------------------------------------------------------------------------
@pytest.fixture
async def sockets():
    async with contextlib.AsyncExitStack() as stack:
        yield stack


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def start_ws(stack, name: str, email: str) -> dict:
    """A customer who starts a chat and then drops off (the socket closes)."""
    async with websockets.connect(stack.ws_url) as ws:
        await ws.send(json.dumps({"type": "start", "name": name, "email": email, "topic": "general"}))
        started = json.loads(await ws.recv())
        assert started["type"] == "started", started
    await until(lambda: stack.contacts.of("contact.created", id=started["conversation_id"]), 20, what="contact.created")
    return started


async def chat_ws(stack, sockets: contextlib.AsyncExitStack, name: str, email: str) -> dict:
    """A customer who starts a chat and stays connected (no abandonment timer)."""
    ws = await sockets.enter_async_context(websockets.connect(stack.ws_url))
    await ws.send(json.dumps({"type": "start", "name": name, "email": email, "topic": "general"}))
    started = json.loads(await ws.recv())
    assert started["type"] == "started", started
    await until(lambda: stack.contacts.of("contact.created", id=started["conversation_id"]), 20, what="contact.created")
    return started


async def resume_ws(stack, token: str, conversation_id: str) -> tuple[int, str]:
    return await first_frame_closes(stack, json.dumps({"type": "resume", "token": token, "conversation_id": conversation_id}))


async def first_frame_closes(stack, frame: str) -> tuple[int, str]:
    async with websockets.connect(stack.ws_url) as ws:
        await ws.send(frame)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await ws.recv()
    return closed.value.rcvd.code, closed.value.rcvd.reason
