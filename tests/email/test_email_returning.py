"""A returning customer on another channel: Carol mails (swaks) and is answered by one
agent; when she comes back by chat (a WebSocket client, the chat gateway) with the same
address, that agent is offered her first, though another agent has waited longer."""

from __future__ import annotations

import json

import httpx
import pytest
import websockets

from services.chat_gateway.app import create_app as create_chat_app
from services.chat_gateway.settings import ChatSettings
from tests.email.helpers import POLICY
from tests.email.test_email_e2e import accept_offer, new_mail
from tests.support.poll import until
from tests.support.router_harness import infra_address, positioned
from tests.support.serve import ready, serve

pytestmark = pytest.mark.email


async def test_a_customer_who_mailed_is_offered_to_the_same_agent_when_they_chat(infra, harness, gateway, sink):
    skills = {"support": 3, "email": 3}
    ann = await harness.agent("ann", skills, channels=["email", "chat"])
    await harness.agent("bob", skills, channels=["email", "chat"])
    mailed = await new_mail(gateway, "<carol-1@example.com>", sender="carol@example.com")
    await accept_offer(harness, mailed.id, ann, "ann")  # signed in first: the longest idle
    r = await harness.http.post(f"/v1/contacts/{mailed.id}/complete", headers=ann)
    assert r.status_code == 200, r.text  # ann was busy last: bob is the longest idle now

    chat = create_chat_app(ChatSettings(
        kafka_bootstrap=infra_address(infra, "kafka_bootstrap"), redis_url=infra_address(infra, "redis_url"),
        chat_secret="chat-test-secret", policy_file=POLICY, replica="returning-test"))
    async with serve(chat) as url, httpx.AsyncClient(trust_env=False) as http:
        await positioned(chat.state.service.gateway.consumer, "chat gateway assignment")
        await until(lambda: ready(http, f"{url}/readyz"), 30, what="chat gateway ready")
        async with websockets.connect(url.replace("http://", "ws://") + "/ws") as ws:
            await ws.send(json.dumps({"type": "start", "name": "Carol", "email": "Carol@Example.com",
                                      "topic": "general"}))
            started = json.loads(await ws.recv())
            assert started["type"] == "started", started
            offered = await harness.routing.wait("offer.issued", contact_id=started["conversation_id"])
    assert offered.data.channel == "chat" and offered.data.agent_id == "ann"  # her last agent, not bob
