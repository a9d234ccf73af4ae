"""The gateway as a process (`python -m services.voice_gateway`) and its RTP side."""

import asyncio
import os
import socket
import struct
import sys
from pathlib import Path

import httpx
import pytest

from services.voice_gateway.adapters import media
from services.voice_gateway.domain.sdp import Media
from tests.support.poll import until
from tests.support.serve import ready
from tests.voice.sipp import free_port

pytestmark = pytest.mark.voice
REPO = Path(__file__).resolve().parents[2]


async def test_hold_audio_loops_to_the_caller_as_rtp_in_the_calls_codec(tmp_path):
    caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    caller.bind(("127.0.0.1", 0))
    caller.setblocking(False)
    wav = tmp_path / "hold.wav"  # a RIFF header, then 200 bytes of A-law
    wav.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt \x00\x00\x00\x00data\xc8\x00\x00\x00" + bytes(range(200)))
    audio = media.load_hold_audio(wav)
    assert audio == bytes(range(200))
    session = await media.open_session("127.0.0.1", lambda digit: None, range(40000, 40100))
    try:
        assert 40000 <= session.port < 40100 and session.port % 2 == 0
        session.negotiated(Media("127.0.0.1", caller.getsockname()[1], 8, "PCMA", 101))
        session.play(audio, 8)
        loop = asyncio.get_running_loop()
        packets = [await asyncio.wait_for(loop.sock_recv(caller, 2048), 5) for _ in range(3)]
    finally:
        session.close()
        caller.close()
    headers = [struct.unpack("!BBHII", p[:12]) for p in packets]
    assert [h[1] for h in headers] == [8, 8, 8]  # payload type PCMA
    assert headers[1][2] == (headers[0][2] + 1) % 65536 and headers[1][3] == (headers[0][3] + 160) % 2**32
    assert packets[0][12:] == audio[:160] and packets[1][12:] == audio[160:] + audio[:120]  # it loops


async def test_the_gateway_process_serves_health_metrics_and_sip(infra, tmp_path):
    sip_port, http_port = free_port(), free_port()
    env = {**os.environ, "OMNIROUTE_SIP_HOST": "127.0.0.1", "OMNIROUTE_SIP_PORT": str(sip_port),
           "OMNIROUTE_VOICE_HTTP_PORT": str(http_port), "OMNIROUTE_KAFKA_BOOTSTRAP": infra.kafka_bootstrap}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "services.voice_gateway", cwd=REPO, env=env,
                                                stdout=open(tmp_path / "out.log", "wb"), stderr=asyncio.subprocess.STDOUT)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}") as http:
            await until(lambda: ready(http), 60, interval=0.2, what=f"readyz\n{(tmp_path / 'out.log').read_text()}")
            assert (await http.get("/healthz")).json() == {"status": "ok"}
            answer = await asyncio.to_thread(_options, sip_port)
            assert answer.startswith(b"SIP/2.0 200 OK")
            metrics = (await http.get("/metrics", follow_redirects=True)).text
            assert 'omniroute_voice_sip_requests_total{method="OPTIONS"} 1.0' in metrics
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 30)


def _options(port: int) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(5)
        udp.sendto(b"OPTIONS sip:1000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKopt\r\n"
                   b"From: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:1000@127.0.0.1>\r\nCall-ID: probe-1\r\n"
                   b"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", ("127.0.0.1", port))
        return udp.recv(4096)
