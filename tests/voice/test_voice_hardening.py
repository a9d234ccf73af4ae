"""SIP hardening: every INVITE gets a final response, in-dialog requests must match the
dialog (not just its Call-ID), calls are capped, and a call whose caller went silent is
ended. Hostile input, so the test speaks raw SIP over its own UDP socket."""

import socket
import uuid

import pytest

from services.voice_gateway.domain.admission import TokenBucket
from tests.voice.conftest import voice_gateway
from tests.voice.raw_sip import RawPhone, header, to_tag
from tests.voice.support import created_for

pytestmark = pytest.mark.voice


async def answered_call(phone: RawPhone, number: str) -> tuple[str, str, str]:
    call_id, tag = f"{uuid.uuid4().hex}@raw", uuid.uuid4().hex[:8]
    phone.invite(number, call_id, tag)
    ok = await phone.expect("200 OK")
    ours = to_tag(ok)
    phone.send("ACK", number, call_id, tag, ours, 1)
    return call_id, tag, ours


async def test_a_bye_that_only_knows_the_call_id_is_refused_and_the_call_goes_on(harness, voice, contacts_topic):
    phone, intruder = RawPhone(voice.sip.port), RawPhone(voice.sip.port)
    try:
        call_id, tag, ours = await answered_call(phone, "+15551001")
        contact = await created_for(contacts_topic, "+15551001")
        intruder.send("BYE", "+15551001", call_id, "guessed", ours, 2)  # right Call-ID, wrong tag
        assert "481" in (await intruder.expect("SIP/2.0")).split("\r\n")[0]
        phone.send("BYE", "+15551001", call_id, tag, "not-our-tag", 2)  # right tag, wrong To tag
        assert "481" in (await phone.expect("SIP/2.0")).split("\r\n")[0]
        assert call_id in voice.deps.calls  # still up
        phone.send("BYE", "+15551001", call_id, tag, ours, 3)  # the caller's own BYE works
        await phone.expect("200 OK")
        await contacts_topic.wait("contact.ended", contact_id=contact.data.id)
    finally:
        phone.close()
        intruder.close()


async def test_an_invite_that_fails_after_100_trying_still_gets_a_final_response(harness):
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    port = next(p for p in range(40000, 41000, 2) if _bound(taken, p))  # the only RTP port, in use
    async with voice_gateway(harness, rtp_port_min=port, rtp_port_max=port + 1) as voice:
        phone = RawPhone(voice.sip.port)
        try:
            phone.invite("+15551002", f"{uuid.uuid4().hex}@raw", "t1")
            await phone.expect("100 Trying")
            final = await phone.expect("503")
            assert header(final, "Retry-After") == "5"
            assert voice.deps.calls == {}  # nothing left behind
        finally:
            phone.close()
            taken.close()


def _bound(sock: socket.socket, port: int) -> bool:
    try:
        sock.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False


async def test_calls_beyond_the_cap_get_503_with_retry_after(harness):
    async with voice_gateway(harness, voice_max_calls=1) as voice:
        phone = RawPhone(voice.sip.port)
        try:
            await answered_call(phone, "+15551003")
            phone.invite("+15551004", f"{uuid.uuid4().hex}@raw", "t2")
            refused = await phone.expect("503")
            assert header(refused, "Retry-After") == "5"
        finally:
            phone.close()


async def test_a_caller_silent_on_rtp_is_hung_up_and_the_contact_ended(harness, contacts_topic):
    async with voice_gateway(harness, voice_media_timeout_s=1.0) as voice:
        phone = RawPhone(voice.sip.port)
        try:
            call_id, _, _ = await answered_call(phone, "+15551005")  # and never sends RTP: its BYE was lost
            contact = await created_for(contacts_topic, "+15551005")
            bye = await phone.expect("BYE")
            assert "no media" in header(bye, "Reason")
            ended = await contacts_topic.wait("contact.ended", contact_id=contact.data.id)
            assert ended.data.reason == "customer_left"
            assert call_id not in voice.deps.calls
        finally:
            phone.close()


def test_the_invite_rate_is_a_token_bucket():
    bucket = TokenBucket(rate_per_s=2, burst=2)
    assert [bucket.take(0.0) for _ in range(3)] == [True, True, False]
    assert bucket.take(0.5) and not bucket.take(0.5)  # half a second refills one
