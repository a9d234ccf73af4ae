"""The pure parts of SIP behind a proxy: route sets (RFC 3261 12), digest answers
(RFC 2617 / 8760) and registration (RFC 3261 10)."""

import pytest
from sipmessage import Message

from services.voice_gateway.domain import digest, outbound, sip
from services.voice_gateway.domain.register import Registration

pytestmark = pytest.mark.unit

INVITE = (b"INVITE sip:omniroute@10.0.0.5:5060 SIP/2.0\r\n"
          b"Via: SIP/2.0/UDP 10.0.0.9:5070;branch=z9hG4bK-p\r\nVia: SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bK-c\r\n"
          b"Record-Route: <sip:10.0.0.9:5070;lr;ftag=a1>\r\nRecord-Route: <sip:10.0.0.8;lr>\r\n"
          b"From: <sip:+1555@10.0.0.2>;tag=a1\r\nTo: <sip:1000@pbx>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n"
          b"Contact: <sip:+1555@10.0.0.2:5062>\r\nContent-Length: 0\r\n\r\n")


def test_a_dialog_keeps_the_record_route_and_requests_follow_it():
    req = sip.parse(INVITE)
    ok = sip.response(req, 200, "OK", to_tag="g1").decode()
    assert "Record-Route: <sip:10.0.0.9:5070;lr;ftag=a1>\r\nRecord-Route: <sip:10.0.0.8;lr>" in ok  # 12.1.1
    assert "Record-Route" not in sip.response(req, 100, "Trying").decode()  # no dialog from a 100
    dialog = sip.Dialog.from_invite(req, "g1", "sip:omniroute@10.0.0.5:5060")
    assert dialog.next_hop() == ("10.0.0.9", 5070, "udp")
    bye = sip.parse(dialog.request("BYE", "SIP/2.0/UDP 10.0.0.5:5060")[0])
    assert str(bye.uri) == "sip:+1555@10.0.0.2:5062"  # loose routing: the remote target stays the URI
    assert [str(a.uri) for a in bye.route] == ["sip:10.0.0.9:5070;lr;ftag=a1", "sip:10.0.0.8;lr"]


def test_a_strict_router_takes_the_request_uri():
    dialog = sip.Dialog("c", "<sip:a@x>;tag=1", "<sip:b@y>;tag=2", "sip:b@10.0.0.2", "sip:gw",
                        route_set=["<sip:10.0.0.9;maddr=10.0.0.9>", "<sip:10.0.0.8;lr>"])
    uri, routes = dialog.routing()
    assert uri == "sip:10.0.0.9" and routes == ["<sip:10.0.0.8;lr>", "<sip:b@10.0.0.2>"]


def test_a_dialog_we_started_reverses_the_route_set():
    call = outbound.new_call("+1555", "trunk:5060", "10.0.0.5", "SIP/2.0/UDP 10.0.0.5:5060", "sip:omniroute@10.0.0.5")
    answer = Message.parse(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.5:5060;branch=" + call.branch.encode() +
                           b"\r\nRecord-Route: <sip:p2.example.net;lr>\r\nRecord-Route: <sip:p1.example.net;lr>\r\nFrom: " + call.local.encode() +
                           b"\r\nTo: <sip:+1555@trunk>;tag=t\r\nCall-ID: " + call.call_id.encode() +
                           b"\r\nCSeq: 1 INVITE\r\nContact: <sip:+1555@10.0.0.7>\r\nContent-Length: 0\r\n\r\n")
    dialog = outbound.dialog_of(call, answer)
    assert dialog.route_set == ["<sip:p1.example.net;lr>", "<sip:p2.example.net;lr>"]  # 12.1.2: the proxy nearest us first
    ack = sip.parse(outbound.ack_answer(call, dialog))
    assert [str(a.uri) for a in ack.route] == ["sip:p1.example.net;lr", "sip:p2.example.net;lr"] and ack.cseq.sequence == 1


def test_digest_answers_match_rfc_2617():
    value = digest.respond({"realm": "testrealm@host.com", "qop": "auth,auth-int",
                            "nonce": "dcd98b7102dd2f0e8b11d0f600bfb0c093", "opaque": "5ccc069c403ebaf9f0171e9517f40e41"},
                           "GET", "/dir/index.html", "Mufasa", "Circle Of Life", cnonce="0a4f113b")
    assert 'response="6629fae49393a05397450978507c4ef1"' in value and "qop=auth" in value and "nc=00000001" in value


def test_a_challenge_is_answered_in_the_header_it_asks_for():
    challenge = Message.parse(b"SIP/2.0 407 Proxy Authentication Required\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK-1\r\n"
                              b"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n"
                              b'Proxy-Authenticate: Digest realm="h", nonce="n1", algorithm=SHA-256\r\n'
                              b"Content-Length: 0\r\n\r\n")
    name, value = digest.credentials(challenge, "INVITE", "sip:b@h", "omniroute", "pw")
    assert name == "Proxy-Authorization" and "algorithm=SHA-256" in value and 'username="omniroute"' in value
    with pytest.raises(digest.CannotAnswer):
        digest.credentials(challenge, "INVITE", "sip:b@h", "", "")  # no credentials configured


def test_registration_refreshes_one_binding_and_reads_what_was_granted():
    reg = Registration("10.0.0.9:5070", "omniroute", "sip:omniroute@10.0.0.5:5060", 300)
    first, second = (sip.parse(reg.request("SIP/2.0/UDP 10.0.0.5:5060")[0]) for _ in range(2))
    assert str(first.uri) == "sip:10.0.0.9" and first.call_id == second.call_id
    assert (first.cseq.sequence, second.cseq.sequence) == (1, 2)
    ok = Message.parse(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK-1\r\nFrom: <sip:omniroute@10.0.0.9>;tag=1\r\n"
                       b"To: <sip:omniroute@10.0.0.9>;tag=2\r\nCall-ID: c\r\nCSeq: 2 REGISTER\r\n"
                       b"Contact: <sip:omniroute@10.0.0.5:5060>;expires=120\r\nContent-Length: 0\r\n\r\n")
    assert reg.granted(ok) == 120
