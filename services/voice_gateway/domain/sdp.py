"""SDP offer/answer (RFC 3264) for one audio stream: G.711 (PCMU/PCMA) and
RFC 4733 telephone-event. Pure."""

from __future__ import annotations

from dataclasses import dataclass

STATIC = {0: "PCMU", 8: "PCMA"}
CODECS = ("PCMU", "PCMA")  # our preference order when the offer allows both
TELEPHONE_EVENT = "telephone-event"
DEFAULT_EVENT_PT = 101


class NotAcceptable(ValueError):
    """No common codec or no audio stream: answer 488."""


@dataclass(frozen=True)
class Media:
    """What we negotiated: where the caller's RTP comes from and how to read it."""

    remote_host: str
    remote_port: int
    codec_pt: int
    codec: str
    event_pt: int | None


def parse_offer(body: bytes) -> Media:
    host, port, pts, names = "", 0, [], {}
    media_host = ""
    in_audio = False
    for raw in body.decode("utf-8", errors="replace").splitlines():
        line = raw.strip()
        if line.startswith("m="):
            in_audio = line.startswith("m=audio ") and not port
            if in_audio:
                fields = line[2:].split()
                if len(fields) < 4 or not fields[1].split("/")[0].isdigit():
                    raise NotAcceptable(f"bad media line {line!r}")
                port = int(fields[1].split("/")[0])
                pts = [int(p) for p in fields[3:] if p.isdigit()]
        elif line.startswith("c=") and len(line.split()) == 3:
            addr = line.split()[2].split("/")[0]
            if in_audio:
                media_host = addr
            elif not port:
                host = addr
        elif line.startswith("a=rtpmap:") and in_audio:
            pt, _, rest = line[len("a=rtpmap:"):].partition(" ")
            if pt.isdigit():
                names[int(pt)] = rest.split("/")[0]
    if not pts:
        raise NotAcceptable("no audio stream offered")
    return negotiate(media_host or host, port, pts, names)


def negotiate(host: str, port: int, pts: list[int], names: dict[int, str]) -> Media:
    def name(pt: int) -> str:
        return names.get(pt, STATIC.get(pt, "")).upper()

    codec_pt = next((pt for pt in pts if name(pt) in CODECS), None)
    if codec_pt is None:
        raise NotAcceptable("offer has neither PCMU nor PCMA")
    event_pt = next((pt for pt in pts if name(pt) == TELEPHONE_EVENT.upper()), None)
    return Media(remote_host=host, remote_port=port, codec_pt=codec_pt, codec=name(codec_pt), event_pt=event_pt)


def answer(host: str, port: int, media: Media | None, session_id: int) -> bytes:
    """Our SDP: the negotiated codec and telephone-event, or a full offer when the
    INVITE had no SDP (the caller answers in the ACK)."""
    if media is None:
        codecs = [(0, "PCMU"), (8, "PCMA")]
        event_pt = DEFAULT_EVENT_PT
    else:
        codecs = [(media.codec_pt, media.codec)]
        event_pt = media.event_pt
    pts = [pt for pt, _ in codecs] + ([event_pt] if event_pt is not None else [])
    lines = ["v=0", f"o=omniroute {session_id} {session_id} IN IP4 {host}", "s=omniroute", f"c=IN IP4 {host}",
             "t=0 0", f"m=audio {port} RTP/AVP {' '.join(map(str, pts))}"]
    lines += [f"a=rtpmap:{pt} {name}/8000" for pt, name in codecs]
    if event_pt is not None:
        lines += [f"a=rtpmap:{event_pt} telephone-event/8000", f"a=fmtp:{event_pt} 0-16"]
    lines += ["a=ptime:20", "a=sendrecv"]
    return ("\r\n".join(lines) + "\r\n").encode()
