"""Walking skeleton: contacts flow through the real broker and Redis to agents."""

import json
import subprocess

import pytest

from shared import topics
from tests.support.poll import until
from tests.support.router_harness import ADMIN
from tests.support.tools import require

pytestmark = pytest.mark.integration


async def test_contact_is_offered_to_the_agent_with_skill_level_and_capacity(harness):
    # billing needs level 3: a level-2 agent and an email-only agent must not get a chat.
    await harness.agent("low", {"billing": 2})
    await harness.agent("emailer", {"billing": 5}, channels=["email"])
    carol = await harness.agent("carol", {"billing": 4}, capacity=34)  # room for one chat

    first = await harness.contact(channel="chat", intent="billing")
    offer = await harness.routing.wait("offer.issued", contact_id=first)
    assert offer.data.agent_id == "carol"
    assert offer.data.queue == "billing"

    r = await harness.http.post(f"/v1/offers/{offer.data.offer_id}/accept", headers=carol)
    assert r.status_code == 200, r.text
    assigned = await harness.routing.wait("contact.assigned", contact_id=first)
    assert assigned.data.agent_id == "carol"

    # carol is full: the next chat waits instead of going to an ineligible agent
    second = await harness.contact(channel="chat", intent="billing")
    await harness.routing.wait("contact.queued", contact_id=second)
    r = await harness.http.get(f"/v1/contacts/{second}", headers=ADMIN)
    assert r.json()["state"] == "queued"
    assert harness.routing.of("offer.issued", contact_id=second) == []

    # completing the first frees capacity, and the waiting contact is offered at once
    r = await harness.http.post(f"/v1/contacts/{first}/complete", headers=carol, json={"disposition": "solved"})
    assert r.status_code == 200, r.text
    await harness.routing.wait("contact.completed", contact_id=first)
    offer2 = await harness.routing.wait("offer.issued", contact_id=second)
    assert offer2.data.agent_id == "carol"


async def test_higher_tier_goes_first_when_two_wait(harness):
    r = await harness.http.put("/v1/customers/vip", headers=ADMIN, json={"tier": "premium"})
    assert r.status_code == 200, r.text
    basic = await harness.contact(customer="walk-in")
    await harness.routing.wait("contact.queued", contact_id=basic)
    premium = await harness.contact(customer="vip")
    queued = await harness.routing.wait("contact.queued", contact_id=premium)
    assert queued.data.tier == "premium"

    await harness.agent("dave", {"support": 3}, capacity=34)
    offer = await harness.routing.wait("offer.issued")
    assert offer.data.contact_id == premium


async def test_same_event_twice_yields_one_contact(harness):
    cid = await harness.contact(event_id="evt-dup-1")
    await harness.contact(contact_id=cid, event_id="evt-dup-1")  # redelivery
    await harness.contact(contact_id=cid, event_id="evt-dup-2")  # a gateway retry with a new id
    sentinel = await harness.contact()
    await harness.routing.wait("contact.queued", contact_id=sentinel)
    assert len(harness.routing.of("contact.queued", contact_id=cid)) == 1


async def test_bad_events_are_dead_lettered_and_the_next_is_routed(harness):
    await harness.agent("erin", {"support": 1})
    garbage = b"\xff{not json"
    await harness.producer.send_and_wait(topics.CONTACTS, value=garbage, key=b"bad-1", headers=[
        ("ce_specversion", b"1.0"), ("ce_id", b"bad-1"), ("ce_source", b"tests"),
        ("ce_type", b"omniroute.contact.created.v1")])
    invalid = json.dumps({"id": "bad-2", "channel": "chat"}).encode()  # no customer
    await harness.producer.send_and_wait(topics.CONTACTS, value=invalid, key=b"bad-2", headers=[
        ("ce_specversion", b"1.0"), ("ce_id", b"bad-2"), ("ce_source", b"tests"),
        ("ce_type", b"omniroute.contact.created.v1")])
    good = await harness.contact()

    offer = await harness.routing.wait("offer.issued", contact_id=good)
    assert offer.data.agent_id == "erin"
    dead = await until(lambda: len(harness.deadletter.raw) >= 2 and harness.deadletter.raw, what="dead letters")
    by_key = {r.key: r for r in dead}
    assert by_key[b"bad-1"].value == garbage
    assert by_key[b"bad-2"].value == invalid
    reason = dict(by_key[b"bad-2"].headers)["omniroute_dlq_reason"].decode()
    assert "customer" in reason and "Field required" in reason
    assert (await harness.http.get("/readyz")).status_code == 200


async def test_raw_cloudevent_from_kcat_is_routed(harness, infra):
    kcat = require("kcat", "kcat")
    await harness.agent("fay", {"support": 1})
    bootstrap = harness.service.settings.kafka_bootstrap
    value = json.dumps({"id": "kcat-1", "channel": "email", "intent": "general",
                        "customer": {"id": "cust-kcat", "address": "k@example.com"}})
    cmd = [kcat, "-P", "-b", bootstrap, "-t", topics.CONTACTS, "-k", "kcat-1",
           "-H", "ce_specversion=1.0", "-H", "ce_id=kcat-evt-1", "-H", "ce_source=kcat",
           "-H", "ce_type=omniroute.contact.created.v1", "-H", "content-type=application/json"]
    subprocess.run(cmd, input=value.encode(), check=True, timeout=30)
    offer = await harness.routing.wait("offer.issued", contact_id="kcat-1")
    assert offer.data.agent_id == "fay"


async def test_another_agent_cannot_accept_an_offer(harness):
    await harness.agent("gus", {"support": 1})
    other = await harness.agent("hal", {"support": 1}, login=False)
    cid = await harness.contact()
    offer = await harness.routing.wait("offer.issued", contact_id=cid)
    r = await harness.http.post(f"/v1/offers/{offer.data.offer_id}/accept", headers=other)
    assert r.status_code == 403


async def test_invalid_http_input_names_the_field(harness):
    r = await harness.http.post("/v1/agents", headers=ADMIN, json={"id": "ivy", "name": "Ivy", "skills": {"support": 9}})
    assert r.status_code == 422
    assert "skills" in json.dumps(r.json()["detail"])
