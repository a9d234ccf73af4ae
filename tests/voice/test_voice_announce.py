"""A queued caller hears their place and the router's estimated wait: sipp places the
call (its SDP sends the audio to a listener of this test), the only agent is busy, so the
call waits; the RTP that reaches the listener carries "you are number one in line, your
estimated wait is about three minutes" (the recorded prompts), and the wait left of it
again voice_announce_every_s after that ended."""

import asyncio
import socket
import struct

import pytest

from services.voice_gateway.adapters import metrics
from services.voice_gateway.adapters.prompts import Prompts
from tests.support.poll import until
from tests.voice import sipp
from tests.voice.conftest import voice_gateway
from tests.voice.support import created_for, phone_agent

pytestmark = pytest.mark.voice
FRAME = 160


def said(names: list[str]) -> bytes:
    """The prompts as PCMU, whole frames only (the last is padded as it is sent)."""
    words = Prompts().say(names, 0)
    return words[: len(words) // FRAME * FRAME]


async def listen(sock: socket.socket, seconds: float) -> bytes:
    """PCMU payloads that reach `sock` in `seconds`, in order."""
    loop, payloads, end = asyncio.get_running_loop(), [], asyncio.get_running_loop().time() + seconds
    while (left := end - loop.time()) > 0:
        try:
            packet = await asyncio.wait_for(loop.sock_recv(sock, 2048), left)
        except TimeoutError:
            break
        if struct.unpack("!BB", packet[:2])[1] & 0x7F == 0:
            payloads.append(packet[12:])
    return b"".join(payloads)


async def test_a_queued_caller_hears_their_place_and_wait_then_what_is_left(harness, contacts_topic, tmp_path):
    ear = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ear.bind(("127.0.0.1", 0))
    ear.setblocking(False)
    agent_port = sipp.free_port()
    async with voice_gateway(harness, voice_announce_every_s=1.0) as voice:
        ivy = await phone_agent(harness, "ivy", {"support": 3}, f"sip:ivy@127.0.0.1:{agent_port}")
        busy = await harness.contact(channel="voice")  # ivy is on another call
        offer = await harness.routing.wait("offer.issued", contact_id=busy)
        assert (await harness.http.post(f"/v1/offers/{offer.data.offer_id}/accept", headers=ivy)).status_code == 200
        before = metrics.ANNOUNCEMENTS._value.get()

        caller = await sipp.run("caller_listens.xml", voice.sip.port, tmp_path, hold_ms=12000,
                                keys={"caller": "+15550777", "service": "1000", "rtp_port": ear.getsockname()[1]})
        contact = await created_for(contacts_topic, "+15550777")
        queued = await harness.routing.wait("contact.queued", contact_id=contact.data.id)
        assert (queued.data.position, queued.data.estimated_wait_s) == (1, 180.0)  # one agent, 3 min handle time
        heard = await listen(ear, 10.0)  # 5 s of it, 1 s apart, 3 s of the wait left
        await caller.done()
    ear.close()
    assert caller.ok, caller.explain()
    first = said(["you_are_number", "n1", "in_line", "wait_about", "n3", "minutes"])
    again = said(["wait_about", "n3", "minutes"])
    assert first in heard, "the place and the wait were not said"
    assert again in heard[heard.index(first) + len(first):], "the wait left was not said again"
    assert await until(lambda: metrics.ANNOUNCEMENTS._value.get() >= before + 2, 5, what="two announcements")
