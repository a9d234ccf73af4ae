"""A bare SIP endpoint over UDP for hostile-input tests: it sends exactly the bytes it is
told (malformed, forged, out of order), which no real phone would."""

import asyncio
import socket
import uuid


class RawPhone:
    """A bare SIP UDP endpoint: sends what it is told, reads what comes back."""

    def __init__(self, gateway_port: int):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.5)
        self.port, self.gateway = self.sock.getsockname()[1], ("127.0.0.1", gateway_port)

    def close(self) -> None:
        self.sock.close()

    def invite(self, number: str, call_id: str, tag: str, contact: str | None = None) -> None:
        self.send_raw(self.build("INVITE", number, call_id, tag, None, 1, self.sdp(), contact=contact))

    def sdp(self) -> str:
        return ("v=0\r\no=p 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                f"m=audio {self.port + 2} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")

    def send_raw(self, data: bytes) -> None:
        self.sock.sendto(data, self.gateway)

    def send(self, method: str, number: str, call_id: str, tag: str, to_tag: str | None, cseq: int,
             body: str = "", contact: str | None = None) -> None:
        self.send_raw(self.build(method, number, call_id, tag, to_tag, cseq, body, contact))

    def build(self, method: str, number: str, call_id: str, tag: str, to_tag: str | None, cseq: int,
              body: str = "", contact: str | None = None) -> bytes:
        to = f"<sip:1000@127.0.0.1:{self.gateway[1]}>" + (f";tag={to_tag}" if to_tag else "")
        lines = [f"{method} sip:1000@127.0.0.1:{self.gateway[1]} SIP/2.0",
                 f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{uuid.uuid4().hex[:10]};rport",
                 f'From: "P" <sip:{number}@127.0.0.1:{self.port}>;tag={tag}', f"To: {to}", f"Call-ID: {call_id}",
                 f"CSeq: {cseq} {method}", f"Contact: {contact or f'<sip:{number}@127.0.0.1:{self.port}>'}",
                 "Max-Forwards: 70"]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()

    async def expect(self, first_line_has: str, timeout: float = 15) -> str:
        """The next message whose first line contains `first_line_has` (others skipped)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            try:
                data = await asyncio.to_thread(self.sock.recv, 65535)
            except TimeoutError:
                continue
            text = data.decode(errors="replace")
            if first_line_has in text.split("\r\n", 1)[0]:
                return text
        raise AssertionError(f"no {first_line_has!r} within {timeout}s")


def header(msg: str, name: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in msg.split("\r\n") if line.lower().startswith(name.lower() + ":"))


def to_tag(msg: str) -> str:
    return header(msg, "To").split("tag=")[1].split(";")[0]
