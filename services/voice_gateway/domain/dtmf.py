"""DTMF digits from RTP telephone-events (RFC 4733) and SIP INFO bodies. Pure."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

EVENTS = "0123456789*#ABCD"  # RFC 4733 §3.2: events 0-15
DTMF_RELAY = "application/dtmf-relay"
DTMF_PLAIN = "application/dtmf"


@dataclass(frozen=True)
class RtpPacket:
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    marker: bool
    payload: bytes


def parse_rtp(packet: bytes) -> RtpPacket:
    if len(packet) < 12:
        raise ValueError("RTP packet shorter than its header")
    b0, b1, seq, ts, ssrc = struct.unpack("!BBHII", packet[:12])
    if b0 >> 6 != 2:
        raise ValueError("not RTP version 2")
    offset = 12 + 4 * (b0 & 0x0F)
    if b0 & 0x10:  # header extension: 16-bit profile, 16-bit length in words
        if len(packet) < offset + 4:
            raise ValueError("truncated RTP header extension")
        offset += 4 + 4 * struct.unpack("!H", packet[offset + 2:offset + 4])[0]
    end = len(packet)
    if b0 & 0x20 and end > offset:  # padding: last octet says how much
        end -= packet[-1]
    if offset > end:
        raise ValueError("RTP header longer than the packet")
    return RtpPacket(b1 & 0x7F, seq, ts, ssrc, bool(b1 & 0x80), packet[offset:end])


def telephone_event(payload: bytes) -> tuple[str, bool]:
    """(digit, end bit) of an RFC 4733 event payload."""
    if len(payload) < 4:
        raise ValueError("telephone-event payload shorter than 4 octets")
    event, flags = payload[0], payload[1]
    if event >= len(EVENTS):
        raise ValueError(f"event {event} is not a DTMF digit")
    return EVENTS[event], bool(flags & 0x80)


@dataclass
class DtmfDetector:
    """One digit per key press: an event's packets (start, updates, three ends) share
    one RTP timestamp, so a new timestamp is a new press."""

    event_pt: int | None
    _seen: set[tuple[int, int]] = field(default_factory=set)

    def feed(self, packet: bytes) -> str | None:
        if self.event_pt is None:
            return None
        try:
            rtp = parse_rtp(packet)
            if rtp.payload_type != self.event_pt:
                return None
            digit, _end = telephone_event(rtp.payload)
        except ValueError:
            return None  # audio noise or a bad packet: never a reason to drop the call
        key = (rtp.ssrc, rtp.timestamp)
        if key in self._seen:
            return None
        self._seen.add(key)
        return digit


def info_digit(content_type: str, body: bytes) -> str:
    """The digit of a SIP INFO body: application/dtmf-relay ('Signal=5') or application/dtmf."""
    text = body.decode("utf-8", errors="replace")
    ctype = content_type.split(";")[0].strip().lower()
    if ctype == DTMF_RELAY:
        for line in text.splitlines():
            name, _, value = line.partition("=")
            if name.strip().lower() == "signal":
                return _digit(value.strip())
        raise ValueError("dtmf-relay body has no Signal line")
    if ctype == DTMF_PLAIN:
        return _digit(text.strip())
    raise ValueError(f"unsupported INFO content type {ctype!r}")


def _digit(value: str) -> str:
    value = value.upper()
    if value.isdigit() and 10 <= int(value) <= 15:  # some phones send event numbers
        return EVENTS[int(value)]
    if len(value) != 1 or value not in EVENTS:
        raise ValueError(f"{value!r} is not a DTMF digit")
    return value
