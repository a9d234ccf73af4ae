"""A call to a closed queue (hours of operation, the router's clock injected): the caller
hears why in the BYE's Reason (sipp checks it) and is called back after the opening; a
caller without a number is told and the contact ends."""

import struct
import time

import pytest

from tests.routing.world import Clock
from tests.support.hours import closed_policy
from tests.support.router_harness import running_router
from tests.voice import sipp
from tests.voice.conftest import voice_gateway
from tests.voice.support import created_for

pytestmark = pytest.mark.voice


@pytest.fixture
def closed(tmp_path):
    return closed_policy(tmp_path / "policy")


@pytest.fixture
def clock():
    return Clock(now=int(time.time() * 1000))


@pytest.fixture
async def harness(infra, redis, closed, clock):  # the voice fixture's router: closed queues
    async with running_router(infra, clock=clock, policy_file=closed.file) as h:
        yield h


async def test_a_call_to_a_closed_queue_is_told_and_called_back_after_the_opening(harness, voice, contacts_topic,
                                                                                  closed, clock, tmp_path):
    caller = await sipp.run("caller_closed.xml", voice.sip.port, tmp_path / "known", keys={
        "caller": "+15551001", "service": "1000"})
    contact = await created_for(contacts_topic, "+15551001")
    deferred = await harness.routing.wait("contact.deferred", contact_id=contact.data.id)
    assert (deferred.data.action, deferred.data.opens_at_ms) == ("callback", closed.opens_at_ms)
    update = await contacts_topic.wait("contact.updated", contact_id=contact.data.id)
    assert update.data.metadata["callback_number"] == "+15551001"
    await caller.done()
    assert caller.ok, caller.explain()
    assert "SAID we are closed (mon-sun " in caller.files("logs")

    nobody = await sipp.run("caller_closed.xml", voice.sip.port, tmp_path / "anonymous", keys={
        "caller": "anonymous", "service": "1000"})
    anonymous = await created_for(contacts_topic, "anonymous")
    await nobody.done()
    assert nobody.ok, nobody.explain()
    ended = await contacts_topic.wait("contact.ended", contact_id=anonymous.data.id)
    assert ended.data.reason == "closed"  # nobody to call back: over

    assert harness.routing.of("contact.queued", contact_id=contact.data.id) == []
    clock.now = closed.opens_at_ms  # the queue opens (agents signed in before would have timed out)
    queued = await harness.routing.wait("contact.queued", contact_id=contact.data.id)
    assert queued.data.queue == "support"
    await harness.agent("opal", {"support": 3}, channels=["voice"])
    offer = await harness.routing.wait("offer.issued", contact_id=contact.data.id)
    assert offer.data.agent_id == "opal"
    assert harness.routing.of("contact.queued", contact_id=anonymous.data.id) == []


async def test_with_voicemail_on_a_caller_leaves_a_message_the_contact_carries(harness, contacts_topic, closed,
                                                                               tmp_path):
    async with voice_gateway(harness, voice_voicemail_dir=tmp_path / "voicemail") as voice:
        caller = await sipp.run("caller_voicemail.xml", voice.sip.port, tmp_path / "caller", hold_ms=1500, keys={
            "caller": "+15551002", "service": "1000", "pcap": sipp.pcap("g711a.pcap")})
        contact = await created_for(contacts_topic, "+15551002")
        update = await contacts_topic.wait("contact.updated", contact_id=contact.data.id)
        await caller.done()
        assert caller.ok, caller.explain()
    meta = update.data.metadata
    assert meta["voicemail"] == f"{contact.data.id}.wav" and meta["callback_number"] == "+15551002"
    recording = (tmp_path / "voicemail" / meta["voicemail"]).read_bytes()
    assert recording[:4] == b"RIFF" and recording[8:12] == b"WAVE"
    assert struct.unpack("<H", recording[20:22])[0] == 6  # A-law, as the caller sent it
    data_len = struct.unpack("<I", recording[recording.index(b"data") + 4:][:4])[0]
    assert data_len > 8000 and meta["voicemail_s"] == round(data_len / 8000, 1)  # over a second of speech
    assert contacts_topic.of("contact.ended", contact_id=contact.data.id) == []  # waits for the opening
