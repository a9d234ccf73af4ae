"""Callbacks that call back: a caller who asked for one (key 9) keeps their place; when
an agent accepts it, the gateway calls the customer through the trunk (sipp plays the
customer: busy first, then answering), REFERs them to the agent's phone (sipp), and the
busy attempt is retried after the configured delay."""

import pytest

from services.voice_gateway.adapters import metrics
from tests.support.poll import until
from tests.voice import sipp
from tests.voice.conftest import voice_gateway
from tests.voice.support import created_for, phone_agent

pytestmark = pytest.mark.voice


def callbacks(outcome: str) -> float:
    return metrics.CALLBACKS.labels(outcome=outcome)._value.get()


async def nth(watch, kind: str, n: int, **match):
    """The n-th (from 0) event of a kind that matches: waited for."""
    found = await until(lambda: watch.of(kind, **match)[n:], 30, what=f"{kind} #{n} {match}")
    return found[0]


async def accept(harness, contact_id: str, n: int, auth: dict) -> None:
    offer = await nth(harness.routing, "offer.issued", n, contact_id=contact_id)
    r = await harness.http.post(f"/v1/offers/{offer.data.offer_id}/accept", headers=auth)
    assert r.status_code == 200, r.text


async def test_a_callback_dials_the_customer_retries_when_busy_and_bridges_to_the_agent(harness, contacts_topic, tmp_path):
    customer_port, agent_port = sipp.free_ports(2)
    async with voice_gateway(harness, voice_trunk=f"127.0.0.1:{customer_port}", voice_callback_retry_s=1,
                             voice_callback_attempts=3) as voice:
        caller = await sipp.run("caller_callback.xml", voice.sip.port, tmp_path / "request", hold_ms=1000,
                                keys={"caller": "+15550901", "service": "1000", "digit": "9"})
        contact = await created_for(contacts_topic, "+15550901")
        cid = contact.data.id
        await caller.done()
        assert caller.ok, caller.explain()  # pressed 9, the gateway hung up: the contact keeps its place

        phone = await sipp.run("sn:uas", 0, tmp_path / "agent", uas=True, local_port=agent_port)
        busy = await sipp.run("callback_busy.xml", 0, tmp_path / "busy", uas=True, local_port=customer_port)
        ivy = await phone_agent(harness, "ivy", {"support": 3}, f"sip:ivy@127.0.0.1:{agent_port}")
        before = callbacks("busy"), callbacks("answered")
        await accept(harness, cid, 0, ivy)
        assigned = await harness.routing.wait("contact.assigned", contact_id=cid)
        assert assigned.data.callback.number == "+15550901" and assigned.data.callback.attempts == 0
        await busy.done()
        assert busy.ok, busy.explain()  # our INVITE got 486 and we ACKed it
        retry = (await until(lambda: [e for e in contacts_topic.of("contact.updated", contact_id=cid)
                                      if e.data.requeue_reason], 30, what="the busy callback reported"))[0]
        assert retry.data.requeue_reason == "callback busy" and retry.data.retry_in_s == 1
        assert retry.data.metadata["callback_attempts"] == 1
        assert callbacks("busy") == before[0] + 1

        answering = await sipp.run("callback_customer.xml", 0, tmp_path / "customer", uas=True,
                                   local_port=customer_port, keys={"gw_host": "127.0.0.1", "gw_port": voice.sip.port})
        requeued = await harness.routing.wait("contact.requeued", contact_id=cid, reason="callback_retry")
        assert requeued.data.queue == "support"  # back after the retry delay
        await accept(harness, cid, 1, ivy)
        await until(lambda: voice.deps.by_contact.get(cid) and voice.deps.by_contact[cid].call.phase == "connected",
                    30, what="the customer REFERred to ivy's phone")
        assert callbacks("answered") == before[1] + 1
        r = await harness.http.post(f"/v1/contacts/{cid}/complete", headers=ivy)
        assert r.status_code == 200, r.text
        await answering.done()
        assert answering.ok, answering.explain()
        logs = answering.files("logs")
        assert "CALLED sip:+15550901@127.0.0.1" in logs and f"REFER-TO sip:ivy@127.0.0.1:{agent_port}" in logs
        await phone.done()
        assert phone.ok, phone.explain()  # the customer's INVITE reached ivy's phone, then its BYE
