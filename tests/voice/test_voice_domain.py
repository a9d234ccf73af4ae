"""Pure voice logic: SIP parsing and framing, SDP negotiation, DTMF, the dial plan."""

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from services.voice_gateway.domain import dtmf, sdp, sip
from services.voice_gateway.domain.call import Call, Phase, abandons
from services.voice_gateway.domain.dialplan import DialPlan, customer_id, normalize

pytestmark = pytest.mark.unit

INVITE = (
    b"INVITE sip:1000@gw.example SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK-abc;rport\r\n"
    b"v: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-proxy\r\n"
    b'f: "Ann" <sip:+15550100@10.0.0.1>;tag=caller1\r\n'
    b"To: <sip:1000@gw.example>\r\n"
    b"Call-ID: call-1@10.0.0.1\r\n"
    b"CSeq: 7 INVITE\r\n"
    b"Contact: <sip:ann@10.0.0.1:5062>\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: 4\r\n\r\nv=0\r\nEXTRA"
)


def test_invite_parses_with_compact_headers_and_body_cut_to_content_length():
    msg = sip.parse(INVITE)
    assert msg.method == "INVITE" and msg.body == b"v=0\r"
    assert msg.from_address.uri.user == "+15550100" and sip.tag_of(msg.from_address) == "caller1"
    assert sip.branch_of(msg) == "z9hG4bK-abc"
    assert len(msg.headers.getlist("Via")) == 2


@pytest.mark.parametrize(("raw", "why"), [
    (INVITE.replace(b"CSeq: 7 INVITE", b"CSeq: seven INVITE"), "CSeq"),
    (INVITE.replace(b"CSeq: 7 INVITE", b"CSeq: 7 BYE"), "CSeq method"),
    (INVITE.replace(b"Call-ID: call-1@10.0.0.1\r\n", b""), "Call-ID"),
    (INVITE.replace(b"Content-Length: 4", b"Content-Length: 400"), "Content-Length"),
    (INVITE.replace(b"INVITE sip:", b"IN VITE sip:"), "request line"),
    (b"hello\r\n\r\n", "garbage"),
    (INVITE.split(b"\r\n\r\n")[0], "no blank line"),
    (INVITE.replace(b"To: <sip:1000@gw.example>", b"To: <sip:1000@gw.example"), "To"),
])
def test_bad_messages_are_rejected_with_a_reason(raw, why):
    with pytest.raises(sip.BadMessage):
        sip.parse(raw)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_parser_never_raises_anything_but_bad_message(data):
    try:
        sip.parse(data)
    except sip.BadMessage:
        pass


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"Via", b"From", b"To", b"Call-ID", b"CSeq", b"Content-Length", b":", b" ", b"\r\n",
                                 b"1", b"INVITE", b"SIP/2.0", b"<sip:a@b>", b";tag=x", b"\xff", b"z9hG4bK"]), max_size=60))
def test_parser_and_error_response_survive_sip_like_noise(parts):
    data = b"".join(parts) + b"\r\n\r\n"
    try:
        sip.parse(data)
    except sip.BadMessage:
        answer = sip.raw_error_response(data, 400, "Bad Request", "why")
        assert answer is None or answer.startswith(b"SIP/2.0 400 Bad Request\r\nVia:")


def test_response_echoes_the_transaction_and_adds_our_tag():
    req = sip.parse(INVITE)
    out = sip.parse(sip.response(req, 180, "Ringing", to_tag="gw1"))
    assert out.code == 180 and sip.tag_of(out.to_address) == "gw1"
    assert out.headers.getlist("Via") == req.headers.getlist("Via")
    assert (out.call_id, str(out.cseq)) == (req.call_id, "7 INVITE")


def test_raw_error_response_needs_a_via_and_never_answers_a_response():
    assert sip.raw_error_response(b"SIP/2.0 200 OK\r\nVia: x\r\n\r\n", 400, "Bad Request") is None
    assert sip.raw_error_response(b"FOO\r\nCall-ID: 1\r\n\r\n", 400, "Bad Request") is None
    out = sip.raw_error_response(b"X y SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\ni: c1\r\nCSeq: z\r\n\r\n",
                                 400, "Bad Request", 'bad "CSeq"')
    assert b"Via: SIP/2.0/UDP h;branch=z9hG4bK1" in out and b"Call-ID: c1" in out and b'"bad CSeq"' in out


def test_stream_framing_splits_messages_and_keeps_the_rest():
    one = b"OPTIONS sip:a SIP/2.0\r\nContent-Length: 3\r\n\r\nabc"
    messages, rest = sip.split_stream(b"\r\n\r\n" + one + one + one[:10])
    assert messages == [one, one] and rest == one[:10]
    with pytest.raises(sip.FramingError):
        sip.split_stream(b"OPTIONS sip:a SIP/2.0\r\nVia: x\r\n\r\n")
    with pytest.raises(sip.FramingError):
        sip.split_stream(b"OPTIONS sip:a SIP/2.0\r\nl: -1\r\n\r\n")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=5), st.integers(min_value=1, max_value=50))
def test_stream_framing_is_independent_of_how_bytes_arrive(bodies, chunk):
    stream = b"".join(b"INFO sip:a SIP/2.0\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b) for b in bodies)
    got, buffer = [], b""
    for i in range(0, len(stream), chunk):
        messages, buffer = sip.split_stream(buffer + stream[i:i + chunk])
        got += messages
    assert [m.split(b"\r\n\r\n", 1)[1] for m in got] == bodies and buffer == b""


def test_dialog_requests_swap_from_and_to_and_count_cseq():
    req = sip.parse(INVITE)
    dialog = sip.Dialog.from_invite(req, "gw1", "sip:omniroute@gw.example:5060")
    data, branch = dialog.request("REFER", "SIP/2.0/UDP gw.example:5060", headers=[("Refer-To", "<sip:ada@pbx>")])
    refer = sip.parse(data)
    assert refer.method == "REFER" and str(refer.uri) == "sip:ann@10.0.0.1:5062"
    assert sip.tag_of(refer.from_address) == "gw1" and sip.tag_of(refer.to_address) == "caller1"
    assert sip.branch_of(refer) == branch and branch.startswith("z9hG4bK")
    bye = sip.parse(dialog.request("BYE", "SIP/2.0/UDP gw.example:5060")[0])
    assert bye.cseq.sequence == refer.cseq.sequence + 1


@pytest.mark.parametrize(("body", "status"), [(b"SIP/2.0 200 OK\r\n", 200), (b"SIP/2.0 486 Busy Here", 486),
                                              (b"SIP/2.0 100 Trying\r\nVia: x\r\n", 100)])
def test_sipfrag_status(body, status):
    assert sip.parse_sipfrag(body) == status


def test_bad_sipfrag_is_rejected():
    with pytest.raises(sip.BadMessage):
        sip.parse_sipfrag(b"200 OK")


OFFER = b"""v=0\r
o=- 1 1 IN IP4 10.0.0.1\r
s=-\r
c=IN IP4 10.0.0.1\r
t=0 0\r
m=video 4000 RTP/AVP 96\r
m=audio 6000 RTP/AVP 18 8 0 96\r
c=IN IP4 10.0.0.2\r
a=rtpmap:18 G729/8000\r
a=rtpmap:96 telephone-event/8000\r
"""


def test_sdp_picks_the_first_g711_codec_offered_and_telephone_event():
    media = sdp.parse_offer(OFFER)
    assert (media.remote_host, media.remote_port, media.codec, media.codec_pt, media.event_pt) == (
        "10.0.0.2", 6000, "PCMA", 8, 96)
    answer = sdp.answer("192.0.2.5", 7000, media, session_id=1).decode()
    assert "m=audio 7000 RTP/AVP 8 96" in answer and "a=rtpmap:96 telephone-event/8000" in answer
    assert "c=IN IP4 192.0.2.5" in answer


def test_sdp_without_g711_or_audio_is_not_acceptable():
    with pytest.raises(sdp.NotAcceptable):
        sdp.parse_offer(b"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 5 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n")
    with pytest.raises(sdp.NotAcceptable):
        sdp.parse_offer(b"v=0\r\nm=video 5 RTP/AVP 96\r\n")


def test_answer_without_offer_offers_both_codecs():
    assert "m=audio 7000 RTP/AVP 0 8 101" in sdp.answer("h", 7000, None, 1).decode()


def rtp(pt, ts, payload, seq=1, ssrc=7):
    return struct.pack("!BBHII", 0x80, pt, seq, ts, ssrc) + payload


def event(digit_index, end=False, duration=160):
    return bytes([digit_index, 0x80 if end else 0, *struct.pack("!H", duration)])


def test_rfc4733_one_digit_per_press_despite_repeats_and_end_packets():
    det = dtmf.DtmfDetector(101)
    packets = [rtp(101, 1000, event(5)), rtp(101, 1000, event(5, duration=320)),
               *[rtp(101, 1000, event(5, end=True))] * 3, rtp(0, 1160, b"\xff" * 160),
               rtp(101, 2000, event(11)), rtp(101, 2000, event(11, end=True))]
    assert [d for p in packets if (d := det.feed(p))] == ["5", "#"]


def test_rtp_noise_and_wrong_payload_types_give_no_digit():
    det = dtmf.DtmfDetector(101)
    assert det.feed(b"\x00" * 3) is None
    assert det.feed(rtp(101, 1, b"\x01")) is None  # payload too short
    assert det.feed(rtp(101, 1, event(16))) is None  # not a DTMF event
    assert det.feed(rtp(96, 5, event(1))) is None
    assert dtmf.DtmfDetector(None).feed(rtp(101, 9, event(1))) is None


def test_rtp_header_extension_and_csrcs_are_skipped():
    packet = struct.pack("!BBHII", 0x91, 101, 1, 50, 7) + b"\x00" * 4 + b"\xbe\xde\x00\x01" + b"\x00" * 4 + event(3)
    assert dtmf.parse_rtp(packet).payload == event(3)
    assert dtmf.DtmfDetector(101).feed(packet) == "3"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_rtp_detector_never_raises(data):
    dtmf.DtmfDetector(101).feed(data)


@pytest.mark.parametrize(("ctype", "body", "digit"), [
    ("application/dtmf-relay", b"Signal=5\r\nDuration=160\r\n", "5"),
    ("application/dtmf-relay", b"signal= *\nDuration=100", "*"),
    ("application/dtmf-relay", b"Signal=11\r\n", "#"),
    ("application/dtmf", b"7", "7"),
])
def test_info_digits(ctype, body, digit):
    assert dtmf.info_digit(ctype, body) == digit


@pytest.mark.parametrize(("ctype", "body"), [("application/dtmf-relay", b"Duration=1"), ("text/plain", b"5"),
                                             ("application/dtmf-relay", b"Signal=55")])
def test_bad_info_bodies(ctype, body):
    with pytest.raises(ValueError):
        dtmf.info_digit(ctype, body)


PLAN = {
    "numbers": {"1000": {"intent": "general"}, "4000": {"menu": "main"}, "+1 (555) 010-0": {"queue": "vip"}},
    "menus": {
        "main": {"default": {"intent": "general"}, "options": {"1": {"intent": "billing"}, "3": {"menu": "accounts"}}},
        "accounts": {"timeout_s": 2, "default": {"intent": "billing"}, "options": {"2": {"intent": "general"}}},
    },
}


def test_dial_plan_routes_numbers_and_digits():
    plan = DialPlan.model_validate(PLAN)
    assert plan.number("4000").menu == "main"
    assert plan.number("9999").intent is None and plan.number("9999").choice().intent == "general"
    assert plan.number("+15550100").queue == "vip"  # numbers match without visual separators
    assert plan.press("main", "1").choice().intent == "billing"
    assert plan.press("main", "3").menu == "accounts"
    assert plan.press("main", "0").choice().intent == "general"  # operator: straight to the queue
    assert plan.press("main", "7").choice().intent == "general"  # unknown digit: never a replay loop
    assert plan.silence("accounts").intent == "billing"
    assert (plan.timeout_s("accounts"), plan.timeout_s("main")) == (2, plan.ivr_timeout_s)


@pytest.mark.parametrize("bad", [
    {"menus": {"a": {"options": {"1": {"menu": "b"}}}, "b": {"options": {"2": {"menu": "a"}}}}},  # loop
    {"menus": {"a": {"options": {"1": {"menu": "a"}}}}},  # self loop
    {"numbers": {"1": {"menu": "nowhere"}}},
    {"menus": {"a": {"options": {"0": {"intent": "billing"}}}}},  # 0 is the operator
    {"menus": {"a": {"options": {"1": {"menu": "a", "intent": "x"}}}}},
    {"menus": {"a": {"options": {"12": {"intent": "x"}}}}},
])
def test_dial_plans_that_could_loop_or_trap_callers_are_refused(bad):
    with pytest.raises(ValidationError):
        DialPlan.model_validate(bad)


def test_the_shipped_dial_plan_loads():
    from services.voice_gateway.bootstrap import load_dialplan
    from services.voice_gateway.settings import DEFAULT_DIALPLAN

    assert load_dialplan(DEFAULT_DIALPLAN).number("4000").menu == "main"


def test_caller_numbers_become_customer_ids():
    assert customer_id("+1 (555) 010-0") == "+15550100"
    assert customer_id("") == customer_id("<>") == "anonymous"
    assert normalize("555.010 0") == "5550100"


def test_who_abandons():
    call = Call(call_id="c", ani="1", dnis="2", dialog=None, media=None, local_tag="t", invite_branch="b")
    assert not abandons(call)  # still in the IVR: no contact yet
    call.contact_id, call.phase = "v-1", Phase.QUEUED
    assert abandons(call)
    call.callback = True
    assert not abandons(call)  # a callback keeps its place
