"""SIP behind a proxy, with Kamailio (Debian's) in front of the gateway as a contact
center runs it: the gateway REGISTERs there answering its digest challenge, callers
(sipp) reach it only through that binding, and everything inside a dialog follows the
route set the proxy Record-Routed: the proxy refuses (404) what does not. A callback
goes out through the proxy as the trunk and answers its 407."""

import contextlib

import pytest

from tests.support.poll import until
from tests.support.tls import make_pki
from tests.voice import sipp
from tests.voice.conftest import voice_gateway
from tests.voice.kamailio import SECRET, kamailio
from tests.voice.support import created_for, phone_agent
from tests.voice.test_voice_callbacks import accept

pytestmark = pytest.mark.voice
AUTH = {"sip_auth_user": "omniroute", "sip_auth_password": SECRET}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@contextlib.asynccontextmanager
async def behind_proxy(harness, leg: str, pki):
    """Kamailio and the gateway behind it: found by its registration (udp), or reached
    over SIP/TLS at its TLS port (tls)."""
    proxy_port, proxy_tls_port, gateway_tls_port = sipp.free_ports(3)
    if leg == "udp":
        async with kamailio(proxy_port) as proxy, \
                voice_gateway(harness, sip_registrar=f"127.0.0.1:{proxy_port}", **AUTH) as voice:
            await until(lambda: voice.binding.registered, 20, what="the gateway registered with the proxy")
            assert "REGISTERED sip:omniroute@127.0.0.1" in proxy.log()  # after the 401 challenge
            yield proxy, voice
    else:
        async with voice_gateway(harness, sip_tls_port=gateway_tls_port, sip_tls_cert=pki.cert,
                                 sip_tls_key=pki.key) as voice, \
                kamailio(proxy_port, gateway_tls=f"127.0.0.1:{gateway_tls_port}", pki=pki,
                         tls_port=proxy_tls_port) as proxy:
            yield proxy, voice


@pytest.mark.parametrize("leg", ["udp", "tls"])
async def test_a_call_through_the_proxy_is_queued_transferred_and_hung_up_along_the_route(
        harness, contacts_topic, tmp_path, pki, leg):
    agent_port = sipp.free_port()
    async with behind_proxy(harness, leg, pki) as (proxy, voice):
        phone = await sipp.run("sn:uas", 0, tmp_path / "agent", uas=True, local_port=agent_port)
        caller = await sipp.run("caller_via_proxy.xml", proxy.port, tmp_path / "caller", keys={
            "caller": "+15550171", "service": "1000", "proxy_port": proxy.port})

        contact = await created_for(contacts_topic, "+15550171")
        assert contact.data.metadata["dnis"] == "1000"  # the dialled number, though the proxy rewrote the URI
        live = voice.deps.by_contact[contact.data.id]
        assert live.peer.transport == leg  # how the proxy reached the gateway
        agent_uri = f"sip:pia@127.0.0.1:{agent_port}"
        pia = await phone_agent(harness, "pia", {"support": 3}, agent_uri)
        await accept(harness, contact.data.id, 0, pia)
        await until(lambda: live.call.phase == "connected", 30,
                    what="the caller REFERred to pia's phone through the proxy")
        r = await harness.http.post(f"/v1/contacts/{contact.data.id}/complete", headers=pia)
        assert r.status_code == 200, r.text  # the gateway hangs up on the caller (BYE) along the route

        await caller.done(40)
        assert caller.ok, caller.explain() + proxy.log()[-3000:]
        await phone.done(40)
        assert phone.ok, phone.explain()
        logs = " ".join(caller.files("logs").split())
        nearest = proxy.tls_port if leg == "tls" else proxy.port  # the proxy's side towards the gateway
        assert f"RECORD-ROUTE <sip:127.0.0.1:{nearest};" in logs  # our 200 OK kept the proxy's Record-Route
        port = voice.sip.tls_port if leg == "tls" else voice.sip.port
        gateway_via = f"SIP/2.0/{leg.upper()} {voice.deps.public_host}:{port}"
        assert f"REFER-VIA-2 {gateway_via}" in logs and f"BYE-VIA-2 {gateway_via}" in logs  # via the proxy
        routed = proxy.log()
        for method in ("ACK", "REFER", "NOTIFY", "BYE"):
            assert f"ROUTED in-dialog {method} along the route set" in routed, routed[-3000:]
        assert "REFUSED" not in routed
        await until(lambda: not voice.deps.calls, 10, what="the gateway to leave the call")
        assert contacts_topic.of("contact.ended", contact_id=contact.data.id) == []  # not an abandonment


async def test_a_callback_through_the_proxy_answers_its_challenge(harness, contacts_topic, tmp_path):
    proxy_port, customer_port, agent_port = sipp.free_ports(3)
    async with kamailio(proxy_port, customers_port=customer_port) as proxy, \
            voice_gateway(harness, voice_trunk=f"127.0.0.1:{proxy_port}", **AUTH) as voice:
        caller = await sipp.run("caller_callback.xml", voice.sip.port, tmp_path / "request", hold_ms=1000,
                                keys={"caller": "+15550972", "service": "1000", "digit": "9"})
        contact = await created_for(contacts_topic, "+15550972")
        await caller.done()
        assert caller.ok, caller.explain()

        phone = await sipp.run("sn:uas", 0, tmp_path / "agent", uas=True, local_port=agent_port)
        customer = await sipp.run("callback_customer_via_proxy.xml", 0, tmp_path / "customer", uas=True,
                                  local_port=customer_port, keys={"proxy_port": proxy_port})
        ola = await phone_agent(harness, "ola", {"support": 3}, f"sip:ola@127.0.0.1:{agent_port}")
        await accept(harness, contact.data.id, 0, ola)
        await until(lambda: voice.deps.by_contact.get(contact.data.id)
                    and voice.deps.by_contact[contact.data.id].call.phase == "connected",
                    30, what="the customer called back through the proxy and REFERred to ola's phone")
        assert "TRUNK call to +15550972, authenticated" in proxy.log()  # after the 407 challenge
        r = await harness.http.post(f"/v1/contacts/{contact.data.id}/complete", headers=ola)
        assert r.status_code == 200, r.text
        await customer.done(40)
        assert customer.ok, customer.explain() + proxy.log()[-3000:]
        await phone.done(40)
        assert phone.ok, phone.explain()
        routed = proxy.log()
        for method in ("ACK", "REFER", "NOTIFY", "BYE"):  # both ways along the route set the answer gave
            assert f"ROUTED in-dialog {method} along the route set" in routed, routed[-3000:]
        assert "REFUSED" not in routed
