"""Voice channel end to end: sipp calls the gateway (real SIP over UDP/TCP), the real
router routes the contacts on the real Kafka and Redis, sipp plays the agent's phone."""

import asyncio
import socket

import pytest

from services.voice_gateway.adapters import metrics
from tests.support.poll import until
from tests.support.router_harness import ADMIN
from tests.voice import sipp
from tests.voice.support import created_for, phone_agent

pytestmark = pytest.mark.voice


async def test_call_is_queued_offered_accepted_and_transferred_to_the_agent_phone(harness, voice, contacts_topic, tmp_path):
    r = await harness.http.put("/v1/customers/+15550101", headers=ADMIN, json={"tier": "premium"})
    assert r.status_code == 200, r.text
    agent_port = sipp.free_port()
    phone = await sipp.run("sn:uas", 0, tmp_path / "agent", uas=True, local_port=agent_port)
    caller = await sipp.run("caller_transfer.xml", voice.sip.port, tmp_path / "caller", keys={
        "caller": "+15550101", "service": "1000", "gw_host": "127.0.0.1", "gw_port": voice.sip.port})

    contact = await created_for(contacts_topic, "+15550101")
    assert contact.data.channel == "voice" and contact.data.metadata["dnis"] == "1000"
    queued = await harness.routing.wait("contact.queued", contact_id=contact.data.id)
    assert queued.data.tier == "premium"  # the router applied the caller's CRM profile
    assert queued.data.queue == "support"

    agent_uri = f"sip:ada@127.0.0.1:{agent_port}"
    ada = await phone_agent(harness, "ada", {"support": 3}, agent_uri)
    offer = await harness.routing.wait("offer.issued", contact_id=contact.data.id)
    r = await harness.http.post(f"/v1/offers/{offer.data.offer_id}/accept", headers=ada)
    assert r.status_code == 200, r.text
    assigned = await harness.routing.wait("contact.assigned", contact_id=contact.data.id)
    assert assigned.data.agent_sip_uri == agent_uri

    await until(lambda: voice.deps.calls and next(iter(voice.deps.calls.values())).call.phase == "connected",
                30, what="the caller to reach the agent's phone")
    # The gateway keeps the caller's dialog while the agent has the call; completing the
    # contact ends its part (BYE), and the caller then hangs up on the agent.
    r = await harness.http.post(f"/v1/contacts/{contact.data.id}/complete", headers=ada)
    assert r.status_code == 200, r.text
    await caller.done()
    assert caller.ok, caller.explain()
    assert f"REFER-TO {agent_uri}" in caller.files("logs"), caller.explain()
    await phone.done()
    assert phone.ok, phone.explain()  # the agent's phone got the caller's INVITE
    await until(lambda: not voice.deps.calls, 10, what="the gateway to leave the transferred call")
    assert contacts_topic.of("contact.ended", contact_id=contact.data.id) == []
    assert contacts_topic.of("contact.updated", contact_id=contact.data.id) == []


async def test_an_agents_transfer_refers_the_caller_to_the_next_agents_phone(harness, voice, contacts_topic, tmp_path):
    ports = sipp.free_ports(2)
    phones = [await sipp.run("sn:uas", 0, tmp_path / f"phone{i}", uas=True, local_port=p) for i, p in enumerate(ports)]
    caller = await sipp.run("caller_transfer_twice.xml", voice.sip.port, tmp_path / "caller", keys={
        "caller": "+15550111", "service": "1000", "gw_host": "127.0.0.1", "gw_port": voice.sip.port})
    contact = await created_for(contacts_topic, "+15550111")
    first = await phone_agent(harness, "fay", {"support": 3}, f"sip:fay@127.0.0.1:{ports[0]}")
    offer = await harness.routing.wait("offer.issued", contact_id=contact.data.id, agent_id="fay")
    assert (await harness.http.post(f"/v1/offers/{offer.data.offer_id}/accept", headers=first)).status_code == 200
    await until(lambda: voice.deps.by_contact.get(contact.data.id) and
                voice.deps.by_contact[contact.data.id].call.phase == "connected", 30, what="the caller with fay")

    second = await phone_agent(harness, "gus", {"billing": 3}, f"sip:gus@127.0.0.1:{ports[1]}")
    r = await harness.http.post(f"/v1/contacts/{contact.data.id}/transfer", headers=first, json={
        "queue": "billing", "note": "refund of order 1042", "reason": "billing question"})
    assert r.status_code == 200, r.text
    moved = await harness.routing.wait("contact.transferred", contact_id=contact.data.id)
    assert (moved.data.from_agent, moved.data.queue) == ("fay", "billing")
    offer = await harness.routing.wait("offer.issued", contact_id=contact.data.id, agent_id="gus")
    assert (await harness.http.post(f"/v1/offers/{offer.data.offer_id}/accept", headers=second)).status_code == 200
    view = (await harness.http.get(f"/v1/contacts/{contact.data.id}", headers=second)).json()
    assert view["contact"]["metadata"]["transfer"]["note"] == "refund of order 1042"  # for gus to read
    await until(lambda: voice.deps.by_contact[contact.data.id].call.phase == "connected", 30,
                what="the caller with gus")
    assert (await harness.http.post(f"/v1/contacts/{contact.data.id}/complete", headers=second)).status_code == 200

    await caller.done()
    assert caller.ok, caller.explain()
    logs = caller.files("logs")
    assert f"REFER-TO sip:fay@127.0.0.1:{ports[0]}" in logs and f"SECOND-REFER-TO sip:gus@127.0.0.1:{ports[1]}" in logs
    for phone in phones:
        await phone.done()
        assert phone.ok, phone.explain()  # each phone got the caller's INVITE, then its BYE
    await until(lambda: not voice.deps.calls, 10, what="the gateway to leave the call")
    assert contacts_topic.of("contact.ended", contact_id=contact.data.id) == []


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
async def test_caller_hanging_up_in_queue_is_recorded_as_abandoned_with_its_wait(harness, voice, contacts_topic, tmp_path, tcp):
    caller_id = "+1555020" + ("1" if tcp else "0")
    caller = await sipp.run("caller_hangup.xml", voice.sip.port, tmp_path, hold_ms=1500, tcp=tcp,
                            keys={"caller": caller_id, "service": "2000"})
    contact = await created_for(contacts_topic, caller_id)
    queued = await harness.routing.wait("contact.queued", contact_id=contact.data.id)
    assert queued.data.queue == "billing"  # dialled number 2000 -> intent billing
    await caller.done()
    assert caller.ok, caller.explain()
    abandoned = await harness.routing.wait("contact.abandoned", contact_id=contact.data.id)
    assert abandoned.data.channel == "voice"
    assert abandoned.data.wait_ms >= 1000  # held ~1.5 s after the answer
    assert contacts_topic.of("contact.ended", contact_id=contact.data.id)


async def test_cancel_while_ringing_gets_487_and_is_an_abandonment(harness, voice, contacts_topic, tmp_path):
    caller = await sipp.run("caller_cancel.xml", voice.sip.port, tmp_path, hold_ms=1000,
                            keys={"caller": "+15550301", "service": "5000"})  # 5000 rings 4 s before answering
    contact = await created_for(contacts_topic, "+15550301")
    await harness.routing.wait("contact.queued", contact_id=contact.data.id)
    await caller.done()
    assert caller.ok, caller.explain()  # got 200 for the CANCEL and 487 for the INVITE
    abandoned = await harness.routing.wait("contact.abandoned", contact_id=contact.data.id)
    assert abandoned.data.wait_ms >= 500
    assert not voice.deps.calls


async def test_rfc4733_dtmf_selects_the_intent_and_so_the_queue(harness, voice, contacts_topic, tmp_path):
    caller = await sipp.run("caller_rtp_dtmf.xml", voice.sip.port, tmp_path, hold_ms=2500, keys={
        "caller": "+15550401", "service": "4000", "pcap": sipp.pcap("dtmf_2833_1.pcap")})
    contact = await created_for(contacts_topic, "+15550401", timeout=10)  # well before the 1.5 s menu timeout + hold
    assert contact.data.intent == "billing"
    assert contact.data.metadata["ivr_digits"] == "1"
    queued = await harness.routing.wait("contact.queued", contact_id=contact.data.id)
    assert queued.data.queue == "billing"
    await caller.done()
    assert caller.ok, caller.explain()


@pytest.mark.parametrize(("digit", "intent", "queue"), [("2", "complaint", "complaints"), ("0", "general", "support")])
async def test_sip_info_dtmf_selects_the_intent_and_so_the_queue(harness, voice, contacts_topic, tmp_path, digit, intent, queue):
    caller_id = f"+155505{digit}1"
    caller = await sipp.run("caller_info_dtmf.xml", voice.sip.port, tmp_path, hold_ms=1000, keys={
        "caller": caller_id, "service": "4000", "digit": digit})
    contact = await created_for(contacts_topic, caller_id)
    assert (contact.data.intent, contact.data.metadata["ivr_digits"]) == (intent, digit)
    queued = await harness.routing.wait("contact.queued", contact_id=contact.data.id)
    assert queued.data.queue == queue
    await caller.done()
    assert caller.ok, caller.explain()


async def test_silence_in_the_menu_goes_straight_to_the_queue(harness, voice, contacts_topic, tmp_path):
    caller = await sipp.run("caller_hangup.xml", voice.sip.port, tmp_path, hold_ms=3000,
                            keys={"caller": "+15550601", "service": "4000"})
    contact = await created_for(contacts_topic, "+15550601")
    assert (contact.data.intent, contact.data.metadata["ivr_digits"]) == ("general", "")
    queued = await harness.routing.wait("contact.queued", contact_id=contact.data.id)
    assert queued.data.queue == "support"
    await caller.done()
    assert caller.ok, caller.explain()


async def test_callback_request_keeps_the_contact_in_its_place(harness, voice, contacts_topic, tmp_path):
    first = await sipp.run("caller_callback.xml", voice.sip.port, tmp_path / "first", hold_ms=1500,
                           keys={"caller": "+15550701", "service": "1000", "digit": "9"})
    a = await created_for(contacts_topic, "+15550701")
    await harness.routing.wait("contact.queued", contact_id=a.data.id)
    second = await sipp.run("caller_hangup.xml", voice.sip.port, tmp_path / "second", hold_ms=6000,
                            keys={"caller": "+15550702", "service": "1000"})
    b = await created_for(contacts_topic, "+15550702")
    await harness.routing.wait("contact.queued", contact_id=b.data.id)

    update = await contacts_topic.wait("contact.updated", contact_id=a.data.id)
    assert update.data.metadata["callback"] is True
    assert update.data.metadata["callback_number"] == "+15550701"
    await first.done()
    assert first.ok, first.explain()  # the gateway hung up on the caller (BYE)
    assert contacts_topic.of("contact.ended", contact_id=a.data.id) == []

    # The first caller left the line but not the queue: an agent gets them first.
    await phone_agent(harness, "bea", {"support": 2}, "sip:bea@127.0.0.1:5999")
    offer = await harness.routing.wait("offer.issued")
    assert offer.data.contact_id == a.data.id
    async def merged():  # the router merges the gateway's metadata: the agent sees the number to call
        r = await harness.http.get(f"/v1/contacts/{a.data.id}", headers=ADMIN)
        return r.json()["contact"]["metadata"].get("callback") and r.json()

    view = await until(merged, what="callback metadata on the contact")
    assert view["state"] == "offered"
    assert view["contact"]["metadata"]["callback_number"] == "+15550701"
    await second.done()
    assert second.ok, second.explain()


async def test_a_call_the_queue_cannot_take_becomes_a_callback_and_the_caller_is_told(harness, voice, contacts_topic,
                                                                                       tmp_path):
    doc = (await harness.http.get("/v1/policy", headers=ADMIN)).json()["policy"]
    for queue in doc["queues"].values():  # nobody may wait: no agent is logged in
        queue |= {"max_waiting": 0, "overflow_action": "callback", "overflow_queue": None}
    assert (await harness.http.put("/v1/policy", headers=ADMIN, json=doc)).status_code == 200
    caller = await sipp.run("caller_overflow.xml", voice.sip.port, tmp_path, keys={"caller": "+15550801", "service": "1000"})
    contact = await created_for(contacts_topic, "+15550801")
    overflowed = await harness.routing.wait("contact.overflowed", contact_id=contact.data.id)
    assert overflowed.data.action == "callback"
    update = await contacts_topic.wait("contact.updated", contact_id=contact.data.id)
    assert update.data.metadata["callback_number"] == "+15550801"
    await caller.done()
    assert caller.ok, caller.explain()  # BYE with a Reason saying we will call back
    assert contacts_topic.of("contact.ended", contact_id=contact.data.id) == []  # not an abandonment


async def test_failed_transfer_is_reported_for_requeue(harness, voice, contacts_topic, tmp_path):
    agent_port = sipp.free_port()
    phone = await sipp.run("agent_busy.xml", 0, tmp_path / "agent", uas=True, local_port=agent_port)
    caller = await sipp.run("caller_transfer_busy.xml", voice.sip.port, tmp_path / "caller", hold_ms=1500, keys={
        "caller": "+15550801", "service": "1000", "gw_host": "127.0.0.1", "gw_port": voice.sip.port})
    contact = await created_for(contacts_topic, "+15550801")
    cal = await phone_agent(harness, "cal", {"support": 3}, f"sip:cal@127.0.0.1:{agent_port}")
    offer = await harness.routing.wait("offer.issued", contact_id=contact.data.id)
    r = await harness.http.post(f"/v1/offers/{offer.data.offer_id}/accept", headers=cal)
    assert r.status_code == 200, r.text

    update = await contacts_topic.wait("contact.updated", contact_id=contact.data.id)
    assert "486" in update.data.requeue_reason
    await harness.routing.wait("contact.requeued", contact_id=contact.data.id)  # back at its place
    await phone.done()
    assert phone.ok, phone.explain()
    await caller.done()
    assert caller.ok, caller.explain()  # the caller stayed on hold, then hung up
    await contacts_topic.wait("contact.ended", contact_id=contact.data.id)


async def test_malformed_requests_get_400_and_the_gateway_keeps_serving(harness, voice, contacts_topic, tmp_path):
    before = metrics.BAD_MESSAGES.labels(transport="udp")._value.get()
    bad = await sipp.run("malformed.xml", voice.sip.port, tmp_path / "bad", keys={"caller": "+15550901", "service": "1000"})
    await bad.done()
    assert bad.ok, bad.explain()  # sipp got its 400
    assert metrics.BAD_MESSAGES.labels(transport="udp")._value.get() > before

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:  # no Via: nothing to answer, nothing breaks
        udp.sendto(b"\x00\xff garbage \r\n\r\n", ("127.0.0.1", voice.sip.port))
    reader, writer = await asyncio.open_connection("127.0.0.1", voice.sip.port)  # no Content-Length on a stream
    writer.write(b"OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKx\r\n"
                 b"From: <sip:a@b>;tag=1\r\nTo: <sip:x@y>\r\nCall-ID: broken-1\r\nCSeq: 1 OPTIONS\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(), 10)  # read() to EOF: the gateway closes the broken stream
    writer.close()
    assert answer.startswith(b"SIP/2.0 400 ") and b"Content-Length is required" in answer

    good = await sipp.run("caller_hangup.xml", voice.sip.port, tmp_path / "good", hold_ms=500,
                          keys={"caller": "+15550902", "service": "1000"})
    contact = await created_for(contacts_topic, "+15550902")
    await harness.routing.wait("contact.queued", contact_id=contact.data.id)
    await good.done()
    assert good.ok, good.explain()


async def test_unsupported_method_gets_501_and_options_200(voice):
    def ask(method: str) -> bytes:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.settimeout(5)
            udp.sendto(f"{method} sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK{method}\r\n"
                       f"From: <sip:a@b>;tag=1\r\nTo: <sip:x@y>\r\nCall-ID: m-{method}\r\nCSeq: 1 {method}\r\n"
                       "Content-Length: 0\r\n\r\n".encode(), ("127.0.0.1", voice.sip.port))
            return udp.recv(4096)

    assert (await asyncio.to_thread(ask, "SUBSCRIBE")).startswith(b"SIP/2.0 501 ")
    options = await asyncio.to_thread(ask, "OPTIONS")
    assert options.startswith(b"SIP/2.0 200 ") and b"INVITE" in options


async def test_fifty_concurrent_calls_all_answered_and_routed(harness, voice, tmp_path):
    calls = 50
    caller = await sipp.run("caller_hangup.xml", voice.sip.port, tmp_path, calls=calls, concurrent=calls, rate=100,
                            hold_ms=3000, keys={"caller": "+15551000", "service": "1000"})
    await caller.done(timeout=120)
    assert caller.ok, caller.explain()  # every call got its 200 OK and ended cleanly
    assert len(caller.rtts()) == calls
    queued = await until(lambda: len({e.data.contact_id for e in harness.routing.of("contact.queued", channel="voice")}) >= calls
                         and harness.routing.of("contact.queued", channel="voice"), 30, what=f"{calls} voice contacts")
    assert len({e.data.contact_id for e in queued}) == calls
    await until(lambda: len(harness.routing.of("contact.abandoned", channel="voice")) >= calls, 30,
                what="every hang-up recorded")
