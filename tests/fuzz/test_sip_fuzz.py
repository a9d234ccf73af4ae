"""A SIP fuzz pass on the voice gateway: hypothesis-mutated INVITEs (truncated, oversized,
bytes flipped, wrong lengths, garbage bodies, headers dropped) and requests out of order.
Every INVITE the gateway can parse gets a final response; nothing crashes it."""

import asyncio
import socket
import uuid

import pytest
from hypothesis import strategies as st
from sipmessage import Response

from services.voice_gateway.domain import sip
from tests.fuzz.cases import CASES, drawn
from tests.integration.conftest import harness, redis  # noqa: F401 -- re-exported fixtures
from tests.support.poll import until
from tests.voice.conftest import voice_gateway
from tests.voice.raw_sip import RawPhone

pytestmark = [pytest.mark.fuzz, pytest.mark.voice]
INVITES = 120
MAX_DATAGRAM = 60_000


def mutation():
    return st.one_of(
        st.tuples(st.just("truncate"), st.floats(0, 1)),
        st.tuples(st.just("flip"), st.floats(0, 1), st.integers(0, 255)),
        st.tuples(st.just("pad"), st.integers(1_000, MAX_DATAGRAM - 2_000)),
        st.tuples(st.just("length"), st.integers(-50, 5_000)),
        st.tuples(st.just("body"), st.binary(max_size=400)),
        st.tuples(st.just("drop"), st.integers(1, 8)),
        st.tuples(st.just("none")),
    )


def mutate(data: bytes, m: tuple) -> bytes:
    kind = m[0]
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if kind == "truncate":
        return data[:int(len(data) * m[1])]
    if kind == "flip":
        i = min(len(data) - 1, int(len(data) * m[1]))
        return data[:i] + bytes([m[2]]) + data[i + 1:]
    if kind == "pad":
        return b"\r\n".join([*lines[:2], b"X-Pad: " + b"a" * m[1], *lines[2:]]) + b"\r\n\r\n" + body
    if kind == "length":
        lines = [line for line in lines if not line.startswith(b"Content-Length")] + [b"Content-Length: %d" % m[1]]
    elif kind == "body":
        body = m[1]
        lines = [line for line in lines if not line.startswith(b"Content-Length")] + [b"Content-Length: %d" % len(body)]
    elif kind == "drop":
        lines = lines[:m[1]] + lines[m[1] + 1:]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def parsed_invite(data: bytes) -> str | None:
    """The Call-ID of an INVITE the gateway can parse (and so must answer), else None."""
    try:
        msg = sip.parse(data)
    except sip.BadMessage:
        return None
    return msg.call_id if getattr(msg, "method", None) == "INVITE" else None


async def test_mutated_invites_all_get_a_final_response_and_the_gateway_survives(harness):  # noqa: F811
    async with voice_gateway(harness, voice_invite_rate_per_s=10_000) as voice:
        phone = RawPhone(voice.sip.port)
        replies: dict[str, list[int]] = {}
        reader = asyncio.create_task(_collect(phone.sock, replies))
        try:
            must_answer, stray = set(), []
            for i, m in enumerate(drawn(mutation(), INVITES)):
                data = mutate(phone.build("INVITE", f"+1555{i:05d}", f"fz{i}-{uuid.uuid4().hex[:8]}", f"t{i}",
                                          None, 1, phone.sdp()), m)
                if (call_id := parsed_invite(data)) is not None:
                    must_answer.add(call_id)
                phone.send_raw(data)
                await asyncio.sleep(0.005)
            for method in ("BYE", "CANCEL", "INFO", "NOTIFY", "ACK"):  # requests out of order: no dialog yet
                call_id = f"stray-{method}-{uuid.uuid4().hex[:6]}"
                stray.append((method, call_id))
                phone.send(method, "+15559999", call_id, "x", "y", 2)
            CASES["sip messages"] += INVITES + len(stray)

            def all_final():
                return all(any(code >= 200 for code in replies.get(c, [])) for c in must_answer)

            await until(all_final, 60, what=f"a final response for each of {len(must_answer)} parseable INVITEs")
            for method, call_id in stray:
                if method != "ACK":
                    await until(lambda c=call_id: replies.get(c), 10, what=f"an answer to the stray {method}")
                    assert replies[call_id] == [481], (method, replies[call_id])
            phone.send("OPTIONS", "+15559999", "alive", "x", None, 1)
            await until(lambda: replies.get("alive") == [200], 10, what="OPTIONS answered after the fuzz")
            assert voice.dead_loops() == []
            assert len(must_answer) > INVITES // 4  # the pass did exercise the full INVITE path
        finally:
            reader.cancel()
            phone.close()


async def _collect(sock: socket.socket, replies: dict[str, list[int]]) -> None:
    """Status codes received, by Call-ID (a final code once per transaction is enough)."""
    while True:
        try:
            data = await asyncio.to_thread(sock.recv, 65535)
        except (TimeoutError, OSError):
            await asyncio.sleep(0)
            continue
        try:
            msg = sip.parse(data)
        except sip.BadMessage:
            continue
        if not isinstance(msg, Response):
            continue  # a request from the gateway (a BYE after a timeout): not a reply
        call_id, code = msg.call_id, msg.code
        if code >= 200 and code not in replies.setdefault(call_id, []):
            replies[call_id].append(code)
