"""RTP for a call: one UDP socket per call on the port we answer with in SDP. It turns
RFC 4733 telephone-events into digits, loops hold audio back to the caller and can say
an announcement over it."""

from __future__ import annotations

import asyncio
import os
import random
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from shared import logging as log

from ..domain.dtmf import DtmfDetector, parse_rtp
from ..domain.sdp import Media

logger = log.get("voice.rtp")
FRAME = 160  # 20 ms of 8 kHz G.711
SILENCE = {0: b"\xff", 8: b"\xd5"}  # one sample of silence, PCMU and PCMA
MAX_RECORDING = 8000 * 600  # bytes: ten minutes of G.711, whatever the settings say


class RtpSession(asyncio.DatagramProtocol):
    def __init__(self, on_digit: Callable[[str], None]):
        self.on_digit = on_digit
        self.detector = DtmfDetector(None)
        self.transport: asyncio.DatagramTransport | None = None
        self.remote: tuple[str, int] | None = None
        self._player: asyncio.Task | None = None
        self.heard_at = time.monotonic()  # the caller's last RTP packet (or the session's start)
        self._recording: tuple[int, bytearray] | None = None  # (payload type, audio) of a voicemail

    @property
    def port(self) -> int:
        return self.transport.get_extra_info("sockname")[1]

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        self.heard_at = time.monotonic()
        if self._recording is not None:
            self._record(data)
        digit = self.detector.feed(data)
        if digit:
            self.on_digit(digit)

    def record(self, payload_type: int) -> None:
        """Keep the caller's audio of this payload type from now on (a voicemail)."""
        self._recording = (payload_type, bytearray())

    def recorded(self) -> bytes:
        """What was recorded; recording stops."""
        audio = bytes(self._recording[1]) if self._recording else b""
        self._recording = None
        return audio

    def _record(self, packet: bytes) -> None:
        try:
            rtp = parse_rtp(packet)
        except ValueError:
            return
        pt, audio = self._recording
        if rtp.payload_type == pt and len(audio) < MAX_RECORDING:
            audio += rtp.payload

    def error_received(self, exc: Exception) -> None:
        logger.debug("rtp_error", error=repr(exc))

    def negotiated(self, media: Media | None) -> None:
        if media:
            self.detector.event_pt = media.event_pt
            if media.remote_port:
                self.remote = (media.remote_host, media.remote_port)

    def play(self, audio: bytes, payload_type: int) -> None:
        """Loop `audio` (G.711 in the call's codec) to the caller until stopped."""
        if audio and self.remote and (self._player is None or self._player.done()):
            self._player = asyncio.create_task(self._play(b"", audio, payload_type))

    def announce(self, words: bytes, payload_type: int, then: bytes = b"") -> None:
        """Say `words` once, instead of what plays now, then loop `then` (hold audio)."""
        if words and self.remote:
            self.stop_playing()
            self._player = asyncio.create_task(self._play(words, then, payload_type))

    def stop_playing(self) -> None:
        if self._player:
            self._player.cancel()
            self._player = None

    async def _play(self, once: bytes, looped: bytes, pt: int) -> None:
        seq, ts, ssrc = random.randrange(65536), random.randrange(2**32), random.randrange(2**32)
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        for frame in frames(once, looped, SILENCE.get(pt, b"\xff")):
            if not self.transport or self.transport.is_closing():
                return
            header = struct.pack("!BBHII", 0x80, pt, seq, ts, ssrc)
            self.transport.sendto(header + frame, self.remote)
            seq, ts = (seq + 1) % 65536, (ts + FRAME) % 2**32
            next_at += 0.02
            await asyncio.sleep(max(0.0, next_at - loop.time()))

    def close(self) -> None:
        self.stop_playing()
        if self.transport:
            self.transport.close()


def frames(once: bytes, looped: bytes, silence: bytes) -> Iterator[bytes]:
    """20 ms frames of `once`, then of `looped` over and over (a frame runs on into the
    next pass); without `looped`, the last frame is padded with silence and it ends."""
    buf, offset = bytearray(once), 0
    while True:
        while len(buf) - offset < FRAME:
            if not looped:
                if offset < len(buf):
                    yield bytes(buf[offset:]) + silence * (FRAME - (len(buf) - offset))
                return
            buf += looped
        yield bytes(buf[offset:offset + FRAME])
        offset += FRAME
        if offset >= 1 << 16:  # keep the buffer small on a long hold
            del buf[:offset]
            offset = 0


async def open_session(host: str, on_digit: Callable[[str], None], ports: range | None = None) -> RtpSession:
    """Bind the call's RTP socket: any free port, or one of `ports` (a range a firewall or
    a container publishes). Even ports only, as RTP convention leaves odd ones to RTCP."""
    loop = asyncio.get_running_loop()
    if not ports:
        _, session = await loop.create_datagram_endpoint(lambda: RtpSession(on_digit), local_addr=(host, 0))
        return session
    candidates = [p for p in ports if p % 2 == 0]
    start = random.randrange(len(candidates)) if candidates else 0
    for port in candidates[start:] + candidates[:start]:
        try:
            _, session = await loop.create_datagram_endpoint(lambda: RtpSession(on_digit), local_addr=(host, port))
            return session
        except OSError:
            continue
    raise OSError(f"no free RTP port in {ports.start}-{ports.stop - 1}")


def load_hold_audio(path: Path | None) -> bytes:
    """Raw G.711 bytes (a .wav's data chunk is used as is); empty when not configured."""
    if not path:
        return b""
    data = Path(os.fspath(path)).read_bytes()
    if data[:4] == b"RIFF":
        marker = data.find(b"data")
        data = data[marker + 8:] if marker >= 0 else b""
    return data
